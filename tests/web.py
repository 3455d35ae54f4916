"""A browser-like client for the staff pages: a cookie session that signs in through the form with its CSRF token."""

from __future__ import annotations

import re

import requests


class WebClient:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Accept-Language"] = "zh-CN,zh;q=0.9"

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(self.base + path, timeout=30, **kwargs)

    def csrf_token(self, path: str = "/login") -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', self.get(path).text).group(1)

    def post(self, path: str, data: dict, *, token: bool = True, **kwargs) -> requests.Response:
        if token:
            data = {"csrf_token": self.csrf_token(), **data}
        return self.session.post(self.base + path, data=data, timeout=30, **kwargs)

    def sign_in(self, username: str, password: str, **kwargs) -> requests.Response:
        return self.post("/login", {"username": username, "password": password, **kwargs}, allow_redirects=False)
