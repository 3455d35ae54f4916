"""A client that speaks OpenRosa the way ODK Collect does (Digest auth, token URLs, HEAD then multipart POST)."""

from __future__ import annotations

import re
import uuid
from email.utils import formatdate

import requests
from requests.auth import HTTPDigestAuth

from tests.submission_xml import COLLECT_DECLARATION, E, optional, submission_bytes, submission_root

OPENROSA_HEADERS = {"X-OpenRosa-Version": "1.0", "Accept-Encoding": "gzip"}


class CollectClient:
    """`base` is the server URL as typed into Collect: http://host:port or http://host:port/key/<token>."""

    def __init__(self, base: str, username: str | None = None, password: str | None = None,
                 device_id: str = "collect:TESTDEVICE00001") -> None:
        self.base = base.rstrip("/")
        self.device_id = device_id
        self.session = requests.Session()
        self.session.headers.update(OPENROSA_HEADERS)
        self.session.headers["User-Agent"] = "org.odk.collect.android/v2025.2.1 okhttp/4.12.0 test"
        if username is not None:
            self.session.auth = HTTPDigestAuth(username, password)

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        """Any request as Collect sends it: its session (OpenRosa headers, Digest when set) and a Date header."""
        headers = {"Date": formatdate(usegmt=True), **kwargs.pop("headers", {})}
        return self.session.request(method, url, headers=headers, timeout=60, **kwargs)

    def form_list(self, form_id: str | None = None) -> requests.Response:
        params = {"formID": form_id} if form_id else None
        return self.request("GET", f"{self.base}/formList", params=params)

    def get(self, url: str) -> requests.Response:
        return self.request("GET", url)

    def head_submission(self) -> requests.Response:
        return self.request("HEAD", f"{self.base}/submission", params={"deviceID": self.device_id})

    def post_submission(self, xml: bytes, attachments: dict[str, bytes] | None = None,
                        incomplete: bool = False) -> requests.Response:
        files = [("xml_submission_file", ("submission.xml", xml, "text/xml"))]
        for name, content in (attachments or {}).items():
            files.append((name, (name, content, "image/jpeg")))
        data = {"*isIncomplete*": "yes"} if incomplete else None
        return self.request("POST", f"{self.base}/submission", params={"deviceID": self.device_id},
                             files=files, data=data)

    def submit(self, xml: bytes, attachments: dict[str, bytes] | None = None) -> requests.Response:
        """HEAD first (as Collect does, to learn the size limit and authenticate), then POST."""
        head = self.head_submission()
        assert head.status_code == 204, head.text
        return self.post_submission(xml, attachments)


def visit_xml(instance_id: str | None = None, *, form_id: str = "household_visit", version: str = "2026112201",
              head_name: str = "王秀英", photo: str = "", deprecated_id: str | None = None) -> bytes:
    """A submission of the placeholder household visit form, as Collect would write it."""
    instance_id = instance_id or f"uuid:{uuid.uuid4()}"
    root = submission_root(
        form_id, version,
        E.start("2026-11-20T09:00:00.000+08:00"), E.end("2026-11-20T09:05:00.000+08:00"),
        E.deviceid("collect:TESTDEVICE00001"), E.household_no("12"), E.head_name(head_name),
        E.visit_date("2026-11-20"), E.outcome("completed"), optional("photo", photo), E.needs(),
        E.meta(E.instanceID(instance_id), *([E.deprecatedID(deprecated_id)] if deprecated_id else [])))
    return submission_bytes(root, COLLECT_DECLARATION)


def xml_text(response: requests.Response, tag: str) -> list[str]:
    return re.findall(rf"<{tag}>(.*?)</{tag}>", response.text)
