"""The transfer client's replicate: a town server's raw submissions copied to the county server, by cursor, each
with the group and collector it was collected by, then the town's register decisions (merges, moves, tiers,
settled conflicts, rejected visits, and their undoing), so the county register is the merge of its towns'; and
the service notices (协查通报) both ways: the town's notices and answers to the county, and back from the county the
notices addressed to the town and the answers to its own (docs/notices.md)."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import requests
from requests.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth

from sync.transfer import BODY_MARGIN, TransferError, request_with_retries, split_under

__all__ = ["ReplicationResult", "Replicator", "server_auth"]

_API = "/api/v1/replication/submissions"
_DECISIONS = "/api/v1/replication/decisions"
_NOTICES = "/api/v1/replication/notices"
_NOT_YET_MERGED = "409.8"    # the county has not merged the visits a decision needs yet: sent again next run


def server_auth(server: str, username: str, password: str) -> AuthBase:
    """Basic only over HTTPS; Digest otherwise (as Collect does)."""
    return (HTTPBasicAuth if server.startswith("https://") else HTTPDigestAuth)(username, password)


@dataclass
class ReplicationResult:
    sent: list[str] = field(default_factory=list)
    already_there: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)           # attachments still to reach the town: kept to retry
    refused: list[tuple[str, str]] = field(default_factory=list)  # (instanceID, the county's message): kept to retry
    decisions_sent: list[str] = field(default_factory=list)       # uuids recorded (or undone) on the county now
    decisions_waiting: list[str] = field(default_factory=list)    # their visits not merged on the county yet: kept
    decisions_refused: list[tuple[str, str]] = field(default_factory=list)  # (uuid, the county's message): kept
    notices_sent: list[str] = field(default_factory=list)      # notices (or their answers) new on the county now
    notices_pulled: list[str] = field(default_factory=list)    # notices (or answers) brought back to the town now
    notices_refused: list[tuple[str, str]] = field(default_factory=list)    # (uuid, the server's message): kept


class _Server:
    """One server's replication API: retries of network errors and 5xx, and a clear stop on refused credentials."""

    def __init__(self, url: str, auth: AuthBase, sleep: Callable[[float], None]) -> None:
        self.url = url.rstrip("/")
        self.sleep = sleep
        self.session = requests.Session()
        self.session.auth = auth

    def request(self, method: str, path: str, *, files=None, **arguments) -> requests.Response:
        answer = request_with_retries(self.session, method, self.url + path, sleep=self.sleep, what=self.url,
                                      files=(lambda: files) if files else None, timeout=120, **arguments)
        if answer.status_code == 401:
            raise TransferError(f"{self.url} refused the credentials (401): {_message(answer)}")
        return answer

    def json(self, path: str, **params) -> dict:
        answer = self.request("GET", path, params=params)
        if answer.status_code != 200:
            raise TransferError(f"{self.url}{path} answered {answer.status_code}: {_message(answer)}")
        return answer.json()


class Replicator:
    """Copies what the town server (`source`) has collected past the cursor kept in `state_path` to the county
    server (`target`); what the town still lacks attachments for, or the county refused, is tried again next run."""

    def __init__(self, source: str, target: str, state_path: Path, *, source_auth: AuthBase, target_auth: AuthBase,
                 page_size: int = 100, sleep: Callable[[float], None] = time.sleep) -> None:
        self.source = _Server(source, source_auth, sleep)
        self.target = _Server(target, target_auth, sleep)
        self.state_path = state_path
        self.page_size = page_size
        state = json.loads(state_path.read_text()) if state_path.exists() else {}
        self.cursor: int = state.get("cursor", 0)
        self.pending: dict[str, str] = state.get("pending", {})      # instanceID → why it is to be tried again
        self.ahead: dict[str, int] = state.get("ahead", {})          # sent past the cursor: instanceID → its cursor
        self.decision_cursor: int = state.get("decision_cursor", 0)
        self.undone_since: str | None = state.get("undone_since")     # the town's clock: undone at or after this
        self.decisions_pending: dict[str, dict] = state.get("decisions_pending", {})  # uuid → the decision to resend
        self.notice_cursor: int = state.get("notice_cursor", 0)              # the town's notice steps sent
        self.notice_pull_cursor: int = state.get("notice_pull_cursor", 0)    # the county's notice steps brought back
        self.notices_pending: dict[str, dict] = state.get("notices_pending", {})  # "push:uuid" / "pull:uuid" → notice

    def run(self, progress: Callable[[str], None] = lambda _: None) -> ReplicationResult:
        result = ReplicationResult()
        accepted_length = self._accepted_length()
        for instance_id in list(self.pending):
            answer = self.source.request("GET", f"{_API}/{quote(instance_id, safe='')}")
            if answer.status_code == 404:          # taken out of the town's reach: nothing to send any more
                del self.pending[instance_id]
                continue
            if answer.status_code != 200:
                raise TransferError(f"{self.source.url} answered {answer.status_code}: {_message(answer)}")
            self._replicate(answer.json(), accepted_length, result)
            progress(instance_id)
        after = self.cursor
        while True:
            page = self.source.json(_API, after=after, limit=self.page_size)
            for raw in page["submissions"]:
                if raw["instance_id"] not in self.ahead and raw["instance_id"] not in self.pending:
                    self._replicate(raw, accepted_length, result)
                    self.ahead[raw["instance_id"]] = raw["cursor"]
                progress(raw["instance_id"])
                after = raw["cursor"]
            self.cursor = max(self.cursor, page["cursor"])
            self.ahead = {instance_id: at for instance_id, at in self.ahead.items() if at > self.cursor}
            self._save_state()
            if not page["more"]:
                break
        self._replicate_decisions(result)
        self._replicate_notices(result)
        return result

    def _replicate_notices(self, result: ReplicationResult) -> None:
        """The service notices: those refused last time again, then each side's changed past its cursor — the
        town's to the county, the county's (about this town: the county hands out no other) to the town. Sending
        one again changes nothing (each server takes a notice and its answer once)."""
        for key, notice in list(self.notices_pending.items()):
            push = key.startswith("push:")
            self._send_notice(notice, self.target if push else self.source,
                              result.notices_sent if push else result.notices_pulled, result, key)
        for direction, source, target, done in (("push", self.source, self.target, result.notices_sent),
                                                ("pull", self.target, self.source, result.notices_pulled)):
            cursor_name = "notice_cursor" if direction == "push" else "notice_pull_cursor"
            after = getattr(self, cursor_name)
            while True:
                page = source.json(_NOTICES, after=after, limit=self.page_size)
                for notice in page["notices"]:
                    self._send_notice(notice, target, done, result, f"{direction}:{notice['uuid']}")
                setattr(self, cursor_name, max(getattr(self, cursor_name), page["cursor"]))
                self._save_state()
                if not page["more"]:
                    break
                after = page["last"]

    def _send_notice(self, notice: dict, target: _Server, done: list[str], result: ReplicationResult,
                     key: str) -> None:
        answer = target.request("POST", _NOTICES, json=notice)
        if answer.status_code == 200:
            self.notices_pending.pop(key, None)
            if answer.json()["changed"] and notice["uuid"] not in done:
                done.append(notice["uuid"])
        else:
            self.notices_pending[key] = notice
            result.notices_refused.append((notice["uuid"], _message(answer)))
        self._save_state()

    def _replicate_decisions(self, result: ReplicationResult) -> None:
        """After the submissions: the decisions still to send, those past the cursor, and those undone lately.
        Sending one again is harmless (the county records each uuid once), so decisions not yet settled on the
        town are simply sent again next run."""
        sent: dict[str, str | None] = {}     # this run's: uuid → its undone_at as sent
        for decision in list(self.decisions_pending.values()):
            self._send_decision(decision, result, sent)
        after, undone_since, first = self.decision_cursor, self.undone_since, True
        while True:
            since = {"undone_since": undone_since} if undone_since else {}
            page = self.source.json(_DECISIONS, after=after, limit=self.page_size, **since)
            for decision in page["decisions"] + page["undone"]:
                self._send_decision(decision, result, sent)
            if first:   # the run's first page: what is undone after its moment comes next run
                self.undone_since, first = page["undone_cursor"], False
            undone_since = None   # the undone ones all came with the first page
            self.decision_cursor = max(self.decision_cursor, page["cursor"])
            self._save_state()
            if not page["more"]:
                return
            after = page["last"]

    def _send_decision(self, decision: dict, result: ReplicationResult, sent: dict[str, str | None]) -> None:
        uuid = decision["uuid"]
        if decision["undone_at"] is None and uuid in self.decisions_pending:
            decision = {**decision, "undone_at": self.decisions_pending[uuid]["undone_at"]}
        if uuid in sent and sent[uuid] == decision["undone_at"]:
            return
        sent[uuid] = decision["undone_at"]
        answer = self.target.request("POST", _DECISIONS, json=decision)
        if answer.status_code == 200:
            self.decisions_pending.pop(uuid, None)
            if answer.json()["changed"]:
                result.decisions_sent.append(uuid)
        else:
            self.decisions_pending[uuid] = decision
            if _code(answer) == _NOT_YET_MERGED:
                result.decisions_waiting.append(uuid)
            else:
                result.decisions_refused.append((uuid, _message(answer)))
        self._save_state()

    def _replicate(self, raw: dict, accepted_length: int, result: ReplicationResult) -> None:
        """Send one submission (in several POSTs if its files exceed the county's accepted length)."""
        instance_id = raw["instance_id"]
        xml = base64.b64decode(raw["xml"])
        arrived = [attachment for attachment in raw["attachments"] if attachment["sha256"] is not None]
        answer = None
        for batch in split_under(arrived, accepted_length - len(xml) - BODY_MARGIN, lambda file: file["size"]):
            files = [("xml_submission_file", ("submission.xml", xml, "text/xml"))]
            files += [(attachment["name"], (attachment["name"], self._download(instance_id, attachment),
                                            attachment["content_type"] or "application/octet-stream"))
                      for attachment in batch]
            answer = self.target.request("POST", _API, files=files, params={
                "area": raw["area"], "collector": raw["collector"], "received_at": raw["received_at"],
                **({"device_id": raw["device_id"]} if raw["device_id"] else {})})
            if answer.status_code != 201:
                self.pending[instance_id] = f"refused: {_message(answer)}"
                result.refused.append((instance_id, _message(answer)))
                self._save_state()
                return
        intake = answer.json()
        if len(arrived) < len(raw["attachments"]):
            self.pending[instance_id] = "attachments still to reach the town server"
            result.incomplete.append(instance_id)
        else:
            self.pending.pop(instance_id, None)
            (result.sent if intake["created"] or intake["attachments_added"] else result.already_there).append(
                instance_id)
        self._save_state()

    def _download(self, instance_id: str, attachment: dict) -> bytes:
        path = f"{_API}/{quote(instance_id, safe='')}/attachments/{quote(attachment['name'], safe='')}"
        answer = self.source.request("GET", path)
        if answer.status_code != 200:
            raise TransferError(f"{self.source.url}{path} answered {answer.status_code}: {_message(answer)}")
        return answer.content

    def _accepted_length(self) -> int:
        answer = self.target.request("HEAD", "/submission")
        if answer.status_code != 204:
            raise TransferError(f"HEAD {self.target.url}/submission answered {answer.status_code}")
        return int(answer.headers.get("X-OpenRosa-Accept-Content-Length", 10 * 1024 * 1024))

    def _save_state(self) -> None:
        temporary = self.state_path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"cursor": self.cursor, "pending": self.pending, "ahead": self.ahead,
                                         "decision_cursor": self.decision_cursor, "undone_since": self.undone_since,
                                         "decisions_pending": self.decisions_pending,
                                         "notice_cursor": self.notice_cursor,
                                         "notice_pull_cursor": self.notice_pull_cursor,
                                         "notices_pending": self.notices_pending}, ensure_ascii=False, indent=1))
        os.replace(temporary, self.state_path)


def _message(answer: requests.Response) -> str:
    """The message of a JSON error answer (or the body's start)."""
    try:
        return answer.json()["message"]
    except (ValueError, KeyError, TypeError):
        return answer.text[:200] or answer.reason


def _code(answer: requests.Response) -> str | None:
    """The stable code of a JSON error answer."""
    try:
        return answer.json()["code"]
    except (ValueError, KeyError, TypeError):
        return None
