"""The gunicorn worker class: gevent's WSGI server, taking turns between connections.

`worker_class = "api.worker.Worker"` in gunicorn.conf.py. Three changes to gunicorn's
gevent_pywsgi worker:
- after each response the connection waits for the event loop to poll the others,
  so under load every keep-alive client gets its turn;
- a connection silent for `keepalive` seconds is closed (gevent's server would keep
  it for ever, and hold a graceful shutdown for the whole graceful_timeout);
- OS threads stay threads (gevent would make them greenlets, which take turns on
  one core), so a batch of 2,048 cars or more is predicted on both cores
  (mpg.compiled.CompiledModel).
"""

from __future__ import annotations

import socket

import gevent
from gevent import monkey
from gunicorn.workers.ggevent import GeventPyWSGIWorker, PyWSGIHandler


class TakeTurnsHandler(PyWSGIHandler):
    idle_timeout: float | None = None  # gunicorn's keepalive, set by Worker

    def handle(self) -> None:
        self.socket.settimeout(self.idle_timeout)  # a silent client times out, and the connection closes
        super().handle()

    def handle_one_request(self):
        result = super().handle_one_request()
        # A greenlet yields only when it would block: a client whose next request is already waiting
        # would keep the worker to itself (p99 of 100-340 ms under 8 connections, instead of 7 ms).
        gevent.idle()
        return result


class Worker(GeventPyWSGIWorker):
    wsgi_handler = TakeTurnsHandler

    def init_process(self) -> None:
        TakeTurnsHandler.idle_timeout = self.cfg.keepalive or None
        super().init_process()

    def patch(self) -> None:
        # Sockets, time, select... as gevent's worker, but not threads, nor the queues that threads share.
        monkey.patch_all(thread=False, queue=False)
        self.sockets = [socket.socket(s.FAMILY, socket.SOCK_STREAM, fileno=s.sock.detach()) for s in self.sockets]
