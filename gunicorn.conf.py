"""gunicorn settings, read automatically by `gunicorn api.wsgi:app` from the project root."""

import gc
import os
import shutil
import sys
import tempfile

# This machine only, as the README says (http://localhost:8000). Heroku's web dyno must answer on every
# interface: the Procfile's command gives `--bind 0.0.0.0:$PORT` (and `--reuse-port`, below).
bind = f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gunicorn's own gevent worker: one thread per worker serves all its connections, switching whenever one
# waits (a slow client), and closes a connection idle for `keepalive`. Blocking database calls go to
# gevent's pool of real threads (mpg.monitoring.log.off_the_event_loop), and so does half of a big batch's
# prediction (mpg.artifact.runtime). Predictions are CPU work; workers give the parallelism. gthread
# (GUNICORN_WORKER_CLASS=gthread) hands every request from its poller to a thread and back, which makes a
# one-car request slower (bench/RESULTS.md, "gunicorn's stock worker classes").
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gevent")
threads = int(os.environ.get("GUNICORN_THREADS", "4"))  # gthread only
worker_connections = 1000
# Each worker loads the model itself: ONNX Runtime state made before a fork makes a gthread worker abort
# as it exits ("terminate called ... std::system_error"), and a worker should own everything it runs
# anyway. The master imports nothing of the app.
preload_app = False
timeout = 25  # under Heroku's 30 s router limit
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then, staggered so they never all restart at once. Not often: a restart
# sends its keep-alive clients to the other worker, which then serves them alone.
max_requests = 100_000
max_requests_jitter = 10_000
# The heartbeat touches a file per request; in memory that costs microseconds, on disk far more.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = os.environ.get("GUNICORN_ACCESSLOG")  # gunicorn's own; the API writes its own logfmt lines (api/observe.py)
errorlog = "-"
# SO_REUSEPORT (each worker its own listening socket, so the kernel spreads connections over them) only where
# the command line asks for it: the Procfile and the benchmark give `--reuse-port`. With it, the master holds
# no socket, so gunicorn logs "Listening at: " with no address (when_ready names it), and a second server on
# the same port shares it silently instead of failing with "Address already in use"; Heroku's own
# python-getting-started keeps it off in development for that reason.
reuse_port = False


def on_starting(server) -> None:
    """Give prometheus_client's multiprocess mode its directory: every process writes its metrics to files
    there, and /metrics adds them up.

    gunicorn calls this once in the master, before the first fork, and not on a reload (SIGHUP), after which
    the counts made so far must still be there. Workers import the app after the fork (preload_app is False),
    so every one sees the setting. The directory starts empty, or a previous run's counts would be added in;
    without a setting, it is a fresh one of this run's own.
    """
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="mpg-metrics-", dir=worker_tmp_dir)
        # On the arbiter, which lives as long as the run: a reload reads this file again into new globals,
        # and its new Config's env_orig already holds the variable.
        server.mpg_metrics_made = os.environ["PROMETHEUS_MULTIPROC_DIR"]


def when_ready(server) -> None:
    """Under --reuse-port the master listens on nothing and gunicorn's "Listening at:" line is empty: name the
    address the workers bind."""
    if server.cfg.reuse_port and not server.LISTENERS:
        addresses = [f"http://{a[0]}:{a[1]}" if isinstance(a, tuple) else str(a) for a in server.cfg.address]
        server.log.info("Listening at: %s (a socket per worker: --reuse-port)", ",".join(addresses))


def post_worker_init(worker) -> None:
    """Freeze what loading made (the model's session was started by load_model in this worker).

    gc.freeze: later collections skip everything loading made (the model, the data, the modules), so a
    full collection that lands in the middle of a request has far less to walk.
    """
    gc.collect()
    gc.freeze()


def post_request(worker, req, environ, resp) -> None:
    """gevent: after each response, let the worker's other connections take their turn.

    A greenlet yields only when it would block. A client whose next request has already arrived
    would otherwise be served again and again while the other connections wait.
    `gevent.idle()` waits until the event loop has polled for I/O and run every other greenlet that was ready
    (tests/test_deploy.py: a greenlet ready before the hook has run when it returns).
    """
    monkey = sys.modules.get("gevent.monkey")  # the rule mpg.monitoring.log.off_the_event_loop uses too
    if monkey is not None and monkey.is_module_patched("threading"):
        import gevent

        gevent.idle()


def worker_exit(server, worker) -> None:
    """Write the worker's queued prediction-log rows before it goes (SIGTERM, max_requests, timeout)."""
    prediction_log = getattr(worker.wsgi, "extensions", {}).get("prediction_log")
    if prediction_log is not None:
        prediction_log.close()


def child_exit(server, worker) -> None:
    """A worker that is gone: its counters stay in the sum; its live gauges are dropped (prometheus_client)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    """Remove the metrics directory this run made (one named in PROMETHEUS_MULTIPROC_DIR is left)."""
    made = getattr(server, "mpg_metrics_made", None)
    if made:
        shutil.rmtree(made, ignore_errors=True)
