"""WSGI entry point (`gunicorn server.wsgi:app`) and the embedded gunicorn runner used by `taizhang serve`."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

__all__ = ["run_gunicorn"]


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict) -> None:
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from server import create_app

        return create_app()


def run_gunicorn(bind: str, *, workers: int, threads: int) -> None:
    options = {"bind": bind, "workers": workers, "threads": threads, "worker_class": "gthread",
               "accesslog": None, "timeout": 120, "graceful_timeout": 10}
    _Gunicorn(options).run()


def __getattr__(name: str):
    if name == "app":  # `gunicorn server.wsgi:app`
        from server import create_app

        return create_app()
    raise AttributeError(name)
