"""gunicorn settings, read by `gunicorn api.wsgi:app` from the project root (why: README, deploying to Heroku)."""

import gc
import os
import shutil
import sys
import tempfile

# This machine only, as the README says; Heroku's Procfile gives `--bind 0.0.0.0:$PORT` (and `--reuse-port`).
bind = f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gevent serves all of a worker's connections on one thread; gthread, handing each request from its poller to a
# thread and back, is slower for one car (bench/RESULTS.md, "gunicorn's stock worker classes").
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gevent")
threads = int(os.environ.get("GUNICORN_THREADS", "4"))  # gthread only
worker_connections = 1000
preload_app = False  # each worker loads the model: ONNX Runtime state made before a fork aborted workers at exit
timeout = 25  # under Heroku's 30 s router limit
graceful_timeout = 20
keepalive = 5
# Recycled seldom and staggered: a restart sends its keep-alive clients to the other worker.
max_requests = 100_000
max_requests_jitter = 10_000
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # the heartbeat touches a file per request
accesslog = os.environ.get("GUNICORN_ACCESSLOG")  # gunicorn's own; the API writes its own logfmt lines (api/observe.py)
errorlog = "-"
# Only where the command line asks (the Procfile, the benchmark): with SO_REUSEPORT a second server on the same
# port shares it silently instead of failing with "Address already in use".
reuse_port = False


def on_starting(server) -> None:
    """Give prometheus_client's multiprocess mode an empty directory, once in the master before the first fork.

    Not on a reload (SIGHUP): the counts so far must stay. A named one is emptied of a previous run's counts."""
    if directory := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="mpg-metrics-", dir=worker_tmp_dir)
        # On the arbiter, which outlives a reload (that reads this file again into new globals); on_exit removes it.
        server.mpg_metrics_made = os.environ["PROMETHEUS_MULTIPROC_DIR"]


def when_ready(server) -> None:
    """Under --reuse-port the master listens on nothing and gunicorn's "Listening at:" is empty: name the address."""
    if server.cfg.reuse_port and not server.LISTENERS:
        addresses = [f"http://{a[0]}:{a[1]}" if isinstance(a, tuple) else str(a) for a in server.cfg.address]
        server.log.info("Listening at: %s (a socket per worker: --reuse-port)", ",".join(addresses))


def post_worker_init(worker) -> None:
    """Freeze what loading made (model, data, modules): a full collection mid-request then has far less to walk."""
    gc.collect()
    gc.freeze()


def post_request(worker, req, environ, resp) -> None:
    """Under gevent, let the worker's other ready connections run before the next request (`gevent.idle()`): a
    greenlet yields only when it would block, so a client with its next request waiting would be served on and on."""
    monkey = sys.modules.get("gevent.monkey")  # the rule mpg.artifact.runtime.gevent_threads uses too
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
    if made := getattr(server, "mpg_metrics_made", None):
        shutil.rmtree(made, ignore_errors=True)
