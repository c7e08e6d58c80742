"""gunicorn settings, read automatically by `gunicorn api.wsgi:app` from the project root."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads per worker: a slow client ties up one thread, not the whole worker; keep-alive works.
# Two, not more: a prediction is CPU work, and more threads per worker only fight over the GIL
# (4 threads halved throughput under 8 connections: bench/RESULTS.md).
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
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
