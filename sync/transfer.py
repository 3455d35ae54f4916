"""The transfer client's push: ODK Collect instance folders copied off a phone, sent to a server exactly as Collect
sends them (HEAD, then multipart POSTs split under the server's accepted length), resumable and idempotent."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import ParseError

import requests
from requests.auth import HTTPBasicAuth, HTTPDigestAuth

from sync.errors import TaizhangError
from sync.submission import parse_submission
from sync.xmlsafe import local_name, parse_untrusted

__all__ = ["Instance", "PushResult", "find_instances", "Pusher", "TransferError"]

_XML_PART = "xml_submission_file"
_RETRIES = 4                 # network errors and 5xx: tried this many more times, waiting 1, 2, 4, 8 s


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
    found = []
    for folder in sorted(path for path in root.iterdir() if path.is_dir()):
        xml_path = folder / f"{folder.name}.xml"
        if not xml_path.is_file():
            continue
        data = xml_path.read_bytes()
        try:
            envelope = parse_submission(data)
        except TaizhangError:
            found.append(Instance(folder, xml_path, "", ()))
            continue
        named = {(element.text or "").strip() for element in envelope.root.iter() if len(element) == 0}
        media = tuple(sorted(path for path in folder.iterdir()
                             if path.is_file() and path != xml_path and path.name in named))
        found.append(Instance(folder, xml_path, envelope.instance_id, media))
    return found


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

    def _send(self, instance: Instance, result: PushResult) -> None:
        limit = self._accepted_length()
        xml = instance.xml_path.read_bytes()
        batches = _batches(instance.media, limit - len(xml) - 64 * 1024)
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
        for attempt in range(_RETRIES + 1):
            try:
                answer = self.session.request(method, self.server + path, params={"deviceID": self.device_id},
                                              files=files() if files else None, data=data, timeout=120)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt == _RETRIES:
                    raise TransferError(f"{self.server} cannot be reached: {type(exc).__name__}") from exc
            else:
                if answer.status_code in (401, 403):
                    explained = answer if method != "HEAD" else self.session.get(
                        self.server + "/formList", timeout=60)   # a HEAD answer has no message to show
                    raise TransferError(f"{self.server} refused the credentials ({answer.status_code}): "
                                        f"{_message(explained)}")
                if answer.status_code < 500 or attempt == _RETRIES:
                    return answer
            self.sleep(2 ** attempt)
        raise AssertionError("unreachable")

    def _save_state(self) -> None:
        temporary = self.state_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.done, ensure_ascii=False, indent=1))
        os.replace(temporary, self.state_path)


def _batches(media: tuple[Path, ...], budget: int) -> list[list[Path]]:
    """The media split into POSTs that each stay under the accepted length (a file larger than the budget goes
    alone: the server's own limit per file then decides); at least one POST, with the XML only if no media."""
    batches: list[list[Path]] = [[]]
    size = 0
    for path in media:
        length = path.stat().st_size
        if batches[-1] and size + length > budget:
            batches.append([])
            size = 0
        batches[-1].append(path)
        size += length
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
