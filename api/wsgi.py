"""WSGI entry point: `gunicorn api.wsgi:app` (each worker imports it and loads the model; see gunicorn.conf.py)."""

from api import create_app

app = create_app()
