"""gunicorn settings, read automatically by `gunicorn api.wsgi:app` from the project root."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads per worker: a slow client ties up one thread, not the whole worker; keep-alive works.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
preload_app = True  # load the model once, before forking
timeout = 25  # under Heroku's 30 s router limit
graceful_timeout = 20
keepalive = 5
max_requests = 5000  # recycle workers now and then, staggered so they never all restart at once
max_requests_jitter = 500
accesslog = os.environ.get("GUNICORN_ACCESSLOG")  # off unless asked for: it costs latency
errorlog = "-"
