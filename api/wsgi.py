"""WSGI entry point: `gunicorn api.wsgi:app` (the model is loaded here, once, before workers fork)."""

from api import create_app

app = create_app()
