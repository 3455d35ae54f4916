"""WSGI entry point (`gunicorn server.wsgi:app`) and the server `taizhang serve` runs: gunicorn's process manager
with workers that read each request whole in an event loop (waitress) before a thread runs the app."""

from __future__ import annotations

import os
import socket
import time

from gunicorn.app.base import BaseApplication
from gunicorn.workers.base import Worker
from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import TcpWSGIServer, UnixWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher, WSGITask
from waitress.utilities import RequestEntityTooLarge

from server import create_app

__all__ = ["BufferedWorker", "run_gunicorn"]

MiB = 1024 * 1024


class _TimedRequest(HTTPRequestParser):
    """A request being received, with the moment its first byte arrived."""

    def __init__(self, adj) -> None:
        super().__init__(adj)
        self.began = time.monotonic()


class _OversizeTask(WSGITask):
    """A request announcing a body over the size limit goes to the app without its body (none was read), so the app
    refuses it in the client's own format (OpenRosa XML for Collect); then the connection closes."""

    def build_response_header(self):
        self.set_close_on_finish()
        return super().build_response_header()


def _error_task(channel, request):
    if isinstance(request.error, RequestEntityTooLarge) and request.content_length:
        return _OversizeTask(channel, request)
    return ErrorTask(channel, request)


class _Channel(HTTPChannel):
    parser_class = _TimedRequest
    error_task_class = staticmethod(_error_task)


class _Deadlines:
    """Closes a connection whose request is slower than allowed: its line and headers must arrive within the client
    timeout, and its body at `min_upload_rate` bytes per second on average after that (waitress itself closes a
    connection that sends nothing for the client timeout)."""

    channel_class = _Channel
    min_upload_rate = 500

    def maintenance(self, now):
        super().maintenance(now)
        moment = time.monotonic()
        for channel in self.active_channels.values():
            request = channel.request
            if request is None or channel.requests:  # between requests, or a request is being answered
                continue
            allowed = self.adj.channel_timeout
            if request.headers_finished:
                allowed += request.body_bytes_received / self.min_upload_rate
            if moment - request.began > allowed:
                channel.will_close = True


class _TcpServer(_Deadlines, TcpWSGIServer):
    pass


class _UnixServer(_Deadlines, UnixWSGIServer):
    pass


class BufferedWorker(Worker):
    """A gunicorn worker process in which an event loop reads every request, headers and body, before one of
    `--threads` threads runs the app; a slow or stalled client costs a buffered connection, never a thread.
    Use: `gunicorn -k server.wsgi.BufferedWorker --threads 4 server.wsgi:app`."""

    def run(self) -> None:
        config = self.wsgi.config
        adj = Adjustments(
            sockets=[listener.sock for listener in self.sockets], threads=self.cfg.threads,
            channel_timeout=config["TAIZHANG_CLIENT_TIMEOUT"], cleanup_interval=1,
            connection_limit=config["TAIZHANG_CONNECTION_LIMIT"], asyncore_use_poll=True,
            # Bodies above 64 KiB wait in a temporary file, not in memory; a body announced over the size limit
            # is refused (413) before it is read. A response is written from its buffer by the event loop, so a
            # client that reads slowly holds no thread either.
            inbuf_overflow=64 * 1024, max_request_body_size=config["MAX_CONTENT_LENGTH"] + 1,
            outbuf_high_watermark=256 * MiB,
            # X-Forwarded-* are removed unless a trusted proxy count is configured (then the app's ProxyFix reads
            # them, the same under any WSGI server).
            clear_untrusted_proxy_headers=not config["TAIZHANG_PROXY_COUNT"], ident="taizhang")
        dispatcher = ThreadedTaskDispatcher()
        dispatcher.set_thread_count(adj.threads)
        connections: dict = {}
        servers = []
        for listener in adj.sockets:
            server_class = _UnixServer if listener.family == socket.AF_UNIX else _TcpServer
            server = server_class(self.wsgi, connections, _sock=listener, dispatcher=dispatcher, adj=adj,
                                  bind_socket=False, sockinfo=(listener.family, listener.type, listener.proto,
                                                               listener.getsockname()))
            server.min_upload_rate = config["TAIZHANG_MIN_UPLOAD_RATE"]
            servers.append(server)
        try:
            while self.alive:
                self.notify()
                if os.getppid() != self.ppid:
                    self.log.info("Parent changed, shutting down: %s", self)
                    break
                wasyncore.loop(timeout=1.0, map=connections, use_poll=True, count=1)
            self._finish(servers, connections)
        finally:
            dispatcher.shutdown(timeout=1)
            wasyncore.close_all(connections)

    def _finish(self, servers, connections) -> None:
        """Stop accepting (other workers take new connections) and finish the requests already received, for at
        most the graceful timeout."""
        for server in servers:
            server.accepting = False
        deadline = time.monotonic() + self.cfg.graceful_timeout
        while time.monotonic() < deadline and any(
                isinstance(channel, HTTPChannel) and (channel.requests or channel.total_outbufs_len)
                for channel in list(connections.values())):
            self.notify()
            wasyncore.loop(timeout=0.2, map=connections, use_poll=True, count=1)


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict) -> None:
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return create_app()


def run_gunicorn(bind: str, *, workers: int, threads: int) -> None:
    options = {"bind": bind, "workers": workers, "threads": threads, "worker_class": BufferedWorker,
               "accesslog": None, "timeout": 120, "graceful_timeout": 10, "control_socket_disable": True}
    _Gunicorn(options).run()


def __getattr__(name: str):
    if name == "app":  # `gunicorn server.wsgi:app`
        return create_app()
    raise AttributeError(name)
