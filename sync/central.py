"""The transfer client's pull: submissions and their attachments fetched from an ODK Central server through its REST
and OData API, written in Collect's on-phone layout and sent to our server by `Pusher` (original instanceIDs)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote, urlsplit

import requests
from marshmallow import EXCLUDE, Schema, ValidationError, fields

from sync.errors import AttachmentNameInvalid
from sync.submission import check_attachment_name
from sync.transfer import Pusher, TransferError, read_instance, request_with_retries

__all__ = ["CentralClient", "Listed", "PullResult", "Puller", "SubmissionRef", "Version"]

PAGE_SIZE = 250
OVERLAP = timedelta(minutes=10)
"""How far behind the newest time seen the next listing starts: a submission Central stamped earlier but committed
after our listing is still found; what was already downloaded is recognised and not fetched again."""


# ---- Central's JSON, checked at the boundary --------------------------------------------------------------------

class _Central(Schema):
    class Meta:
        unknown = EXCLUDE


class _SessionSchema(_Central):
    token = fields.String(required=True)


class _SystemSchema(_Central):
    submission_date = fields.AwareDateTime(data_key="submissionDate", required=True)
    updated_at = fields.AwareDateTime(data_key="updatedAt", allow_none=True, load_default=None)


class _MetaSchema(_Central):
    instance_id = fields.String(data_key="instanceID", allow_none=True, load_default=None)


class _RowSchema(_Central):
    instance_id = fields.String(data_key="__id", required=True)
    system = fields.Nested(_SystemSchema, data_key="__system", required=True)
    meta = fields.Nested(_MetaSchema, load_default=lambda: {"instance_id": None})


class _PageSchema(_Central):
    value = fields.List(fields.Nested(_RowSchema), required=True)
    next_link = fields.String(data_key="@odata.nextLink", load_default=None)


class _VersionSchema(_Central):
    instance_id = fields.String(data_key="instanceId", required=True)
    created_at = fields.AwareDateTime(data_key="createdAt", required=True)


class _AttachmentSchema(_Central):
    name = fields.String(required=True)
    exists = fields.Boolean(required=True)


@dataclass(frozen=True)
class Listed:
    """One row of the OData Submissions feed: the submission (its first instanceID) and its current version."""

    instance_id: str
    current_version_id: str | None
    submitted_at: datetime
    updated_at: datetime | None


@dataclass(frozen=True)
class Version:
    instance_id: str
    created_at: datetime


@dataclass(frozen=True)
class SubmissionRef:
    """Where one version of a submission lives in Central's REST API: the submission itself (its current version)
    or, with `version_id`, one of its versions."""

    project: int
    form: str
    instance_id: str
    version_id: str | None = None

    @property
    def path(self) -> str:
        path = f"/v1/projects/{self.project}/forms/{_segment(self.form)}/submissions/{_segment(self.instance_id)}"
        return f"{path}/versions/{_segment(self.version_id)}" if self.version_id is not None else path


class CentralClient:
    """A Central web user's session (`POST /v1/sessions`, then `Authorization: Bearer`); a session that has ended
    (Central's sessions last 24 hours) is replaced by logging in once more. Network errors and 5xx answers are
    retried with the push's bounded backoff."""

    def __init__(self, central: str, email: str, password: str, *, sleep: Callable[[float], None] = time.sleep,
                 page_size: int = PAGE_SIZE) -> None:
        self.central = re.sub(r"/(v1/?)?$", "", central.rstrip("/") + "/")
        self.email = email
        self.password = password
        self.sleep = sleep
        self.page_size = page_size
        self.session = requests.Session()
        self.logged_in = False

    def submissions(self, project: int, form: str, *, since: datetime | None = None,
                    submitter: int | None = None) -> list[Listed]:
        """Every submission of `form` (not deleted), oldest first, read page by page from the OData feed
        (`$top`, then Central's `@odata.nextLink` with its `$skiptoken`); `since` keeps those submitted or
        updated (an edit, a review) at or after that time; `submitter` keeps one Central actor's."""
        conditions = []
        if since is not None:
            stamp = _odata_time(since)
            conditions.append(f"(__system/submissionDate ge {stamp} or __system/updatedAt ge {stamp})")
        if submitter is not None:
            conditions.append(f"__system/submitterId eq {int(submitter)}")
        params = {"$top": str(self.page_size)}
        if conditions:
            params["$filter"] = " and ".join(conditions)
        url = f"{self.central}/v1/projects/{project}/forms/{_segment(form)}.svc/Submissions"
        rows: list[Listed] = []
        while url:
            page = _load(_PageSchema(), self._get(url, params=params), url)
            rows += [Listed(row["instance_id"], row["meta"]["instance_id"], row["system"]["submission_date"],
                            row["system"]["updated_at"]) for row in page["value"]]
            url, params = (self._here(page["next_link"]), None) if page["next_link"] else (None, None)
        rows.reverse()   # Central lists the newest first
        return rows

    def versions(self, ref: SubmissionRef) -> list[Version]:
        """The versions of a submission (the original and each edit), oldest first."""
        url = f"{self.central}{ref.path}/versions"
        listed = _load(_VersionSchema(many=True), self._get(url), url)
        return sorted((Version(item["instance_id"], item["created_at"]) for item in listed),
                      key=lambda version: version.created_at)

    def xml(self, ref: SubmissionRef) -> bytes:
        return self._get(f"{self.central}{ref.path}.xml").content

    def attachments(self, ref: SubmissionRef) -> list[tuple[str, bool]]:
        """The files the version's XML names, each with whether Central has received it yet."""
        url = f"{self.central}{ref.path}/attachments"
        return [(item["name"], item["exists"]) for item in _load(_AttachmentSchema(many=True), self._get(url), url)]

    def attachment(self, ref: SubmissionRef, name: str) -> bytes:
        return self._get(f"{self.central}{ref.path}/attachments/{_segment(name)}").content

    def _get(self, url: str, *, params: dict | None = None) -> requests.Response:
        for attempt in range(2):
            if not self.logged_in:
                self._log_in()
            answer = request_with_retries(self.session, "GET", url, params=params, sleep=self.sleep,
                                          what=self.central, timeout=120)
            if answer.status_code != 401 or attempt:
                break
            self.logged_in = False   # the session has ended: one new login, then the request once more
        if answer.status_code == 401:
            raise TransferError(f"{self.central} refused the session of {self.email}: {_problem(answer)}")
        if answer.status_code == 403:
            raise TransferError(f"{self.central} does not let {self.email} read {urlsplit(url).path}: "
                                f"{_problem(answer)}")
        if answer.status_code != 200:
            raise TransferError(f"GET {urlsplit(url).path} on {self.central} answered {answer.status_code}: "
                                f"{_problem(answer)}")
        return answer

    def _log_in(self) -> None:
        self.session.headers.pop("Authorization", None)
        answer = request_with_retries(self.session, "POST", f"{self.central}/v1/sessions", sleep=self.sleep,
                                      what=self.central, json={"email": self.email, "password": self.password},
                                      timeout=60)
        if answer.status_code == 401:
            raise TransferError(f"{self.central} refused the email or password of {self.email}: {_problem(answer)}")
        if answer.status_code != 200:
            raise TransferError(f"logging in to {self.central} answered {answer.status_code}: {_problem(answer)}")
        token = _load(_SessionSchema(), answer, "/v1/sessions")["token"]
        self.session.cookies.clear()   # Central also sets a cookie; one credential is presented, the bearer token
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.logged_in = True

    def _here(self, link: str) -> str:
        """Central's nextLink is absolute with Central's own configured domain; the same path and query are asked
        of the address this client was given (the same server, reached perhaps through another name)."""
        parts = urlsplit(link)
        start = parts.path.find("/v1/")
        if start < 0:
            raise TransferError(f"{self.central} sent a next page link outside its API: {link[:200]}")
        return f"{self.central}{parts.path[start:]}" + (f"?{parts.query}" if parts.query else "")


def _segment(value: str) -> str:
    return quote(value, safe="")


def _odata_time(moment: datetime) -> str:
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _load(schema: Schema, answer: requests.Response, what: str):
    try:
        return schema.load(answer.json())
    except (ValueError, ValidationError) as exc:
        raise TransferError(f"{urlsplit(what).path} did not answer as ODK Central does: {exc}") from exc


def _problem(answer: requests.Response) -> str:
    """Central's problem body `{"code": 401.2, "message": ...}` as `message (code)`, else the body's start."""
    try:
        problem = answer.json()
        return f"{problem['message']} ({problem['code']})"
    except (ValueError, KeyError, TypeError):
        return answer.text[:200] or answer.reason


# ---- pulling into a local folder, then sending ------------------------------------------------------------------

@dataclass
class PullResult:
    downloaded: list[str] = field(default_factory=list)                     # instance folder names
    waiting: list[tuple[str, list[str]]] = field(default_factory=list)      # (folder, files Central lacks yet)
    unsafe: list[tuple[str, str]] = field(default_factory=list)             # (folder, attachment name not saved)
    sent: list[str] = field(default_factory=list)
    already_there: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


class Puller:
    """Downloads chosen forms' submissions from Central into `out/instances/<name>/` (Collect's layout) and sends
    them with `pusher`. `out/.taizhang-pull.json` remembers, per Central form (and submitter filter), how far the
    listing got and every version downloaded, so a later run fetches only what is new, fetches again what still
    lacked attachments, and sends only what our server has not accepted."""

    def __init__(self, client: CentralClient, out: Path, pusher: Pusher) -> None:
        self.client = client
        self.instances = out / "instances"
        self.state_path = out / ".taizhang-pull.json"
        self.pusher = pusher
        self.state: dict = json.loads(self.state_path.read_text()) if self.state_path.exists() else {"forms": {}}

    def pull(self, project: int, forms: Iterable[str], *, submitter: int | None = None,
             progress: Callable[[str, int, int], None] = lambda *_: None) -> PullResult:
        """Download, then send; `progress(stage, number, total)` is told of each step."""
        result = PullResult()
        chosen = []
        for form in forms:
            key = f"{self.client.central}/v1/projects/{project}/forms/{form}" + (
                f"?submitter={submitter}" if submitter is not None else "")
            chosen.append(self.state["forms"].setdefault(key, {"since": None, "versions": {}}))
            self._download(project, form, submitter, chosen[-1], result, progress)
        unsent = sorted(record["folder"] for selection in chosen for version_id, record in
                        selection["versions"].items() if version_id not in self.pusher.done)
        instances = [instance for name in unsent if (instance := read_instance(self.instances / name))]
        pushed = self.pusher.push(instances, progress=lambda number, total, name: progress("sending", number, total))
        result.sent, result.already_there, result.refused = pushed.sent, pushed.already_there, pushed.refused
        return result

    def _download(self, project: int, form: str, submitter: int | None, selection: dict, result: PullResult,
                  progress: Callable[[str, int, int], None]) -> None:
        known = {version_id for chosen in self.state["forms"].values() for version_id in chosen["versions"]}
        since = datetime.fromisoformat(selection["since"]) - OVERLAP if selection["since"] else None
        listed = self.client.submissions(project, form, since=since, submitter=submitter)
        waiting = [(version_id, record) for version_id, record in selection["versions"].items()
                   if not record["complete"]]
        stage, total = f"downloading {form}", len(waiting) + len(listed)
        for number, (version_id, record) in enumerate(waiting, start=1):
            progress(stage, number, total)
            ref = SubmissionRef(project, form, record["submission"], version_id)
            if self._fetch(ref, record["folder"], result):
                record["complete"] = True
                self.pusher.forget(version_id)   # sent before without the files that have now arrived
            self._save()
        for number, row in enumerate(listed, start=len(waiting) + 1):
            progress(stage, number, total)
            if row.current_version_id in known:
                continue
            if row.updated_at is None:   # never edited (nor reviewed): the submission is its only version
                versions = [(SubmissionRef(project, form, row.instance_id), Version(row.instance_id, row.submitted_at))]
            else:
                versions = [(SubmissionRef(project, form, row.instance_id, version.instance_id), version)
                            for version in self.client.versions(SubmissionRef(project, form, row.instance_id))]
            for ref, version in versions:
                if version.instance_id in known:
                    continue
                folder = _folder_name(form, version)
                complete = self._fetch(ref, folder, result)
                selection["versions"][version.instance_id] = {"submission": row.instance_id, "folder": folder,
                                                              "complete": complete}
                known.add(version.instance_id)
                result.downloaded.append(folder)
                self._save()
        newest = max((moment for row in listed for moment in (row.submitted_at, row.updated_at) if moment),
                     default=None)
        if newest is not None and (not selection["since"] or newest > datetime.fromisoformat(selection["since"])):
            selection["since"] = newest.isoformat()
            self._save()

    def _fetch(self, ref: SubmissionRef, name: str, result: PullResult) -> bool:
        """Write the version's XML and every attachment Central has into `instances/<name>/`; True when Central
        had all of them. A file name that is not a bare name inside the folder is never written."""
        folder = self.instances / name
        folder.mkdir(parents=True, exist_ok=True)
        _write(folder / f"{name}.xml", self.client.xml(ref))
        missing = []
        for filename, exists in self.client.attachments(ref):
            target = folder / filename
            try:
                check_attachment_name(filename)
                if target.resolve().parent != folder.resolve():
                    raise AttachmentNameInvalid(repr(filename))
            except AttachmentNameInvalid:
                result.unsafe.append((name, filename))
                continue
            if not exists:
                missing.append(filename)
            elif not target.is_file():
                _write(target, self.client.attachment(ref, filename))
        if missing:
            result.waiting.append((name, missing))
        return not missing

    def _save(self) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        _write(self.state_path, json.dumps(self.state, ensure_ascii=False, indent=1).encode())


def _folder_name(form: str, version: Version) -> str:
    """`<form>_<when Central received it>_<instanceID>` in file-name-safe characters: folders sort by arrival, as
    Collect's `<form>_<date>` ones do, so a submission's edits are sent after it."""
    stamp = version.created_at.astimezone(timezone.utc)
    bare = version.instance_id.removeprefix("uuid:")
    tail = bare if re.fullmatch(r"[A-Za-z0-9-]{1,64}", bare) else hashlib.sha256(
        version.instance_id.encode()).hexdigest()[:16]
    return (f"{re.sub(r'[^A-Za-z0-9_.-]', '_', form)[:64]}_{stamp:%Y-%m-%d_%H-%M-%S}-"
            f"{stamp.microsecond // 1000:03d}_{tail}")


def _write(path: Path, content: bytes) -> None:
    temporary = path.with_name(path.name + ".part")
    temporary.write_bytes(content)
    os.replace(temporary, path)
