"""gunicorn settings, read automatically by `gunicorn api.wsgi:app` from the project root."""

import gc
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gevent's WSGI server (see api/worker.py): a greenlet per connection, so slow clients and idle
# keep-alive connections cost no thread, and a response leaves in one write. With gthread (two writes
# per response, two thread hand-offs per request) one row took 1.1 ms at p50 instead of 0.7 ms.
# Predictions are CPU work and run one at a time per worker; workers give the parallelism.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "api.worker.Worker")
worker_connections = 1000
preload_app = True  # load the model once, before forking
timeout = 25  # under Heroku's 30 s router limit
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then, staggered so they never all restart at once. Not often: a restart
# sends its keep-alive clients to the other worker, which then serves them alone.
max_requests = 100_000
max_requests_jitter = 10_000
# The heartbeat touches a file per request; in memory that costs microseconds, on disk far more.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = os.environ.get("GUNICORN_ACCESSLOG")  # off unless asked for: it costs latency
errorlog = "-"
reuse_port = True  # each worker its own listening socket: the kernel spreads connections over them


def post_worker_init(worker) -> None:
    """Each worker makes its own ONNX Runtime session (see mpg.compiled): now, not on its first request."""
    model = getattr(worker.wsgi, "extensions", {}).get("model")
    if model is not None:
        model.compiled.warm_up()


def pre_fork(server, worker) -> None:
    """Freeze what the preloaded app made: no worker's collector walks (or copies) those objects.

    Without it a full collection stalled a worker's requests for 80-126 ms, now and then, in its first seconds.
    """
    gc.freeze()
