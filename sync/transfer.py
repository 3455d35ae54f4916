"""The transfer client's push: ODK Collect instance folders copied off a phone, sent to a server exactly as Collect
sends them (HEAD, then multipart POSTs split under the server's accepted length), resumable and idempotent."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from xml.etree.ElementTree import ParseError

import requests
from requests.auth import HTTPBasicAuth, HTTPDigestAuth

from sync.errors import TaizhangError
from sync.submission import parse_submission
from sync.xmlsafe import local_name, parse_untrusted

__all__ = ["Instance", "PushResult", "find_instances", "read_instance", "request_with_retries", "split_under", "Pusher",
           "TransferError"]

_XML_PART = "xml_submission_file"
_RETRIES = 4                 # network errors and 5xx: tried this many more times, waiting 1, 2, 4, 8 s
BODY_MARGIN = 64 * 1024      # multipart headers and boundaries, beside the XML and the files
T = TypeVar("T")


class TransferError(Exception):
    """The server cannot be used at all (wrong address or credentials): nothing more is tried."""


@dataclass(frozen=True)
class Instance:
    """One saved form on a phone: `instances/<name>/<name>.xml` and the files beside it that the XML names."""

    folder: Path
    xml_path: Path
    instance_id: str
    media: tuple[Path, ...]


@dataclass
class PushResult:
    sent: list[str] = field(default_factory=list)
    already_there: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)   # (folder name, the server's message)


def find_instances(root: Path) -> list[Instance]:
    """The saved forms under a phone's `instances/` folder (or the folder itself), oldest folder name first;
    a folder whose XML cannot be read is left out (it is reported as refused by `Pusher.push`)."""
    root = root / "instances" if (root / "instances").is_dir() else root
    found = (read_instance(path) for path in sorted(path for path in root.iterdir() if path.is_dir()))
    return [instance for instance in found if instance is not None]


def read_instance(folder: Path) -> Instance | None:
    """The saved form in `folder` (`<name>/<name>.xml` and the files beside it that the XML names), None if the
    folder holds no such XML; an XML that cannot be read gives an Instance without instanceID."""
    xml_path = folder / f"{folder.name}.xml"
    if not xml_path.is_file():
        return None
    try:
        envelope = parse_submission(xml_path.read_bytes())
    except TaizhangError:
        return Instance(folder, xml_path, "", ())
    named = {(element.text or "").strip() for element in envelope.root.iter() if len(element) == 0}
    media = tuple(sorted(path for path in folder.iterdir()
                         if path.is_file() and path != xml_path and path.name in named))
    return Instance(folder, xml_path, envelope.instance_id, media)


class Pusher:
    """Sends instances to `server` (its address as typed into Collect: with /key/<token> or with a user name and
    password; Basic only over HTTPS, otherwise Digest), remembering what the server accepted in `state_path`."""

    def __init__(self, server: str, state_path: Path, *, username: str | None = None, password: str | None = None,
                 device_id: str = "taizhang-transfer", sleep: Callable[[float], None] = time.sleep) -> None:
        self.server = server.rstrip("/")
        self.state_path = state_path
        self.device_id = device_id
        self.sleep = sleep
        self.session = requests.Session()
        self.session.headers["X-OpenRosa-Version"] = "1.0"
        if username is not None:
            https = self.server.startswith("https://")
            self.session.auth = (HTTPBasicAuth if https else HTTPDigestAuth)(username, password or "")
        self.done: dict[str, str] = json.loads(state_path.read_text()) if state_path.exists() else {}

    def push(self, instances: Iterable[Instance], progress: Callable[[int, int, str], None] = lambda *_: None
             ) -> PushResult:
        instances = list(instances)
        result = PushResult()
        for number, instance in enumerate(instances, start=1):
            progress(number, len(instances), instance.folder.name)
            if not instance.instance_id:
                result.refused.append((instance.folder.name, "the form's XML cannot be read"))
            elif instance.instance_id in self.done:
                result.already_there.append(instance.folder.name)
            else:
                self._send(instance, result)
        return result

    def forget(self, instance_id: str) -> None:
        """Send this instance again on the next push (it has since gained attachments the server still lacks)."""
        if self.done.pop(instance_id, None) is not None:
            self._save_state()

    def _send(self, instance: Instance, result: PushResult) -> None:
        limit = self._accepted_length()
        xml = instance.xml_path.read_bytes()
        batches = split_under(instance.media, limit - len(xml) - BODY_MARGIN, lambda path: path.stat().st_size)
        answer = None
        for index, batch in enumerate(batches):
            answer = self._post(xml, batch, incomplete=index < len(batches) - 1)
            if answer.status_code not in (201, 202):
                result.refused.append((instance.folder.name, _message(answer)))
                return
        self.done[instance.instance_id] = instance.folder.name
        self._save_state()
        (result.already_there if "Already on the server" in _message(answer) else result.sent).append(
            instance.folder.name)

    def _accepted_length(self) -> int:
        answer = self._request("HEAD", "/submission")
        if answer.status_code != 204:
            raise TransferError(f"HEAD {self.server}/submission answered {answer.status_code}: {_message(answer)}")
        return int(answer.headers.get("X-OpenRosa-Accept-Content-Length", 10 * 1024 * 1024))

    def _post(self, xml: bytes, media: list[Path], *, incomplete: bool) -> requests.Response:
        def files():
            parts = [(_XML_PART, ("submission.xml", xml, "text/xml"))]
            parts += [(path.name, (path.name, path.read_bytes(), "application/octet-stream")) for path in media]
            return parts

        return self._request("POST", "/submission", files=files, data={"*isIncomplete*": "yes"} if incomplete else None)

    def _request(self, method: str, path: str, *, files=None, data=None) -> requests.Response:
        answer = request_with_retries(self.session, method, self.server + path, sleep=self.sleep, what=self.server,
                                      params={"deviceID": self.device_id}, files=files, data=data, timeout=120)
        if answer.status_code in (401, 403):
            explained = answer if method != "HEAD" else self.session.get(
                self.server + "/formList", timeout=60)   # a HEAD answer has no message to show
            raise TransferError(f"{self.server} refused the credentials ({answer.status_code}): "
                                f"{_message(explained)}")
        return answer

    def _save_state(self) -> None:
        temporary = self.state_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.done, ensure_ascii=False, indent=1))
        os.replace(temporary, self.state_path)


def request_with_retries(session: requests.Session, method: str, url: str, *, sleep: Callable[[float], None],
                         what: str, files: Callable[[], list] | None = None, **kwargs) -> requests.Response:
    """One HTTP request; network errors and 5xx answers are tried again `_RETRIES` times, waiting 1, 2, 4, 8 s
    (`files` is a function, so each attempt reads the files afresh); the last 5xx answer is returned, the last
    network error raised as a TransferError naming `what` cannot be reached."""
    for attempt in range(_RETRIES + 1):
        try:
            answer = session.request(method, url, files=files() if files else None, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            if attempt == _RETRIES:
                raise TransferError(f"{what} cannot be reached: {type(exc).__name__}") from exc
        else:
            if answer.status_code < 500 or attempt == _RETRIES:
                return answer
        sleep(2 ** attempt)
    raise AssertionError("unreachable")


def split_under(files: Sequence[T], budget: int, size: Callable[[T], int]) -> list[list[T]]:
    """Files split into POSTs that each stay under the accepted length (a file larger than the budget goes alone:
    the server's own limit per file then decides); at least one POST, with the XML only if there are no files."""
    batches: list[list[T]] = [[]]
    total = 0
    for item in files:
        length = size(item)
        if batches[-1] and total + length > budget:
            batches.append([])
            total = 0
        batches[-1].append(item)
        total += length
    return batches


def _message(answer: requests.Response | None) -> str:
    """The text of an OpenRosa response's message (or the body's start)."""
    if answer is None:
        return ""
    try:
        root = parse_untrusted(answer.content)
        texts = [(element.text or "").strip() for element in root.iter() if local_name(element.tag) == "message"]
        return " ".join(text for text in texts if text) or answer.reason
    except (TaizhangError, ParseError, ValueError):
        return answer.text[:200] or answer.reason
