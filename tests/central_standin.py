"""A stand-in for the ODK Central endpoints `taizhang-transfer pull` uses, following Central's documented API (docs
.getodk.org/central-api, central-backend's docs/api.yaml and its tests): paths, JSON shapes, status codes, problem
bodies, bearer sessions and the OData feed's paging. Each route's docstring names the documented behaviour."""

from __future__ import annotations

import base64
import json
import mimetypes
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote_plus, urlencode
from xml.etree import ElementTree

from flask import Flask, Response, request

__all__ = ["CentralStandIn"]

_PROBLEMS = {
    400.2: "Required parameters missing. Expected (email, password), got ({got}).",
    401.2: "Could not authenticate with the provided credentials.",
    403.1: "The authenticated actor does not have rights to perform that action.",
    404.1: "Could not find the resource you were looking for.",
    500.1: "An unknown internal problem has occurred. Please try again later.",
    501.1: "The requested feature {feature} is not supported by this server.",
}


@dataclass
class _Version:
    instance_id: str
    xml: bytes
    attachments: dict[str, bytes | None]   # file name → content; None until Central has received it
    created_at: datetime
    submitter_id: int


@dataclass
class _Submission:
    instance_id: str                       # the first version's instanceID names the submission for good
    submitter_id: int
    created_at: datetime
    versions: list[_Version]               # oldest first; the last is the current one
    updated_at: datetime | None = None


@dataclass
class CentralStandIn:
    """One Central web user and one project; `url` is set once the app is served. `requests` logs every request
    as "METHOD /path?query" (decoded); `fail_next` holds statuses to answer the next requests with;
    `sessions_last` ends every session after that many authenticated requests (as 24 hours would);
    `tokens_refused` answers every bearer token with 401.2, even a fresh one."""

    email: str
    password: str
    project: int = 1
    forms: tuple[str, ...] = ("household_visit",)
    domain: str = "https://central.example.org"   # Central's configured domain, used in @odata links
    url: str = ""
    requests: list[str] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)
    sessions_last: int | None = None
    tokens_refused: bool = False
    logins: int = 0
    _submissions: dict[str, list[_Submission]] = field(default_factory=dict)
    _sessions: dict[str, datetime] = field(default_factory=dict)
    _authenticated: int = 0
    _clock: datetime = datetime(2026, 11, 20, 1, 0, tzinfo=timezone.utc)

    # ---- what happens on Central, outside this API --------------------------------------------------------

    def submit(self, form: str, xml: bytes, attachments: dict[str, bytes | None] | None = None,
               submitter: int = 5) -> str:
        """A submission arrives (from Collect); attachments given as None are still to be uploaded."""
        moment = self._tick()
        instance_id = _instance_id(xml)
        self._submissions.setdefault(form, []).append(_Submission(
            instance_id, submitter, moment, [_Version(instance_id, xml, dict(attachments or {}), moment, submitter)]))
        return instance_id

    def edit(self, form: str, instance_id: str, xml: bytes, attachments: dict[str, bytes | None] | None = None,
             submitter: int = 5) -> str:
        """An edit (Enketo, or the API's PUT): a new version with its own instanceID and meta/deprecatedID."""
        submission = self._find(form, instance_id)
        moment = self._tick()
        submission.versions.append(_Version(_instance_id(xml), xml, dict(attachments or {}), moment, submitter))
        submission.updated_at = moment
        return submission.versions[-1].instance_id

    def upload(self, form: str, instance_id: str, name: str, content: bytes) -> None:
        """A missing attachment of the current version arrives later (Collect resends it)."""
        self._find(form, instance_id).versions[-1].attachments[name] = content

    def end_sessions(self) -> None:
        self._sessions.clear()

    def _tick(self) -> datetime:
        self._clock += timedelta(hours=1)
        return self._clock

    def _find(self, form: str, instance_id: str) -> _Submission:
        return next(s for s in self._submissions[form] if s.instance_id == instance_id)

    # ---- the API ------------------------------------------------------------------------------------------

    def make_app(self) -> Flask:
        """The WSGI app serving this stand-in's state."""
        app = Flask(__name__)
        base = "/v1/projects/<int:project>/forms/<form>"
        app.before_request(self._before)
        app.add_url_rule("/v1/sessions", view_func=self.log_in, methods=["POST"])
        app.add_url_rule(f"{base}.svc/Submissions", view_func=self.odata_submissions)
        app.add_url_rule(f"{base}/submissions/<instance_id>.xml", view_func=self.submission_xml)
        app.add_url_rule(f"{base}/submissions/<instance_id>/attachments", view_func=self.attachments)
        app.add_url_rule(f"{base}/submissions/<instance_id>/attachments/<path:filename>", view_func=self.attachment)
        app.add_url_rule(f"{base}/submissions/<instance_id>/versions", view_func=self.versions)
        app.add_url_rule(f"{base}/submissions/<instance_id>/versions/<version_id>.xml", view_func=self.submission_xml)
        app.add_url_rule(f"{base}/submissions/<instance_id>/versions/<version_id>/attachments",
                         view_func=self.attachments)
        app.add_url_rule(f"{base}/submissions/<instance_id>/versions/<version_id>/attachments/<path:filename>",
                         view_func=self.attachment)
        app.register_error_handler(404, lambda _: _problem(404.1))
        app.register_error_handler(_NotFound, lambda _: _problem(404.1))
        return app

    def _before(self):
        """Authentication (docs: Authentication): `Authorization: Bearer {token}` from `POST /v1/sessions`;
        Central's sessionHandler answers a token that matches no live session with 401.2, and a request with no
        credentials is anonymous, which may read nothing (403.1). Sessions expire 24 hours after creation."""
        self.requests.append(f"{request.method} {request.path}" + (
            f"?{unquote_plus(request.query_string.decode())}" if request.query_string else ""))
        if self.fail_next:
            return _problem(500.1, status=self.fail_next.pop(0))
        if request.path == "/v1/sessions":
            return None
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return _problem(403.1)
        expires = self._sessions.get(header.removeprefix("Bearer "))
        if expires is None or expires <= datetime.now(timezone.utc) or self.tokens_refused:
            return _problem(401.2)
        self._authenticated += 1
        if self.sessions_last is not None and self._authenticated >= self.sessions_last:
            self.sessions_last = None
            self.end_sessions()   # this request is still served; the next one with this token is not
        route = request.view_args or {}
        if route.get("project") != self.project or route.get("form") not in self.forms:
            return _problem(404.1)
        return None

    def log_in(self):
        """Logging in (docs: Session Authentication): `POST /v1/sessions` with JSON {email, password} → 200
        {createdAt, expiresAt (24 hours later), token}; wrong credentials → 401 {"code": 401.2, "message": "Could
        not authenticate with the provided credentials."} with no detail; a missing field → 400.2."""
        body = request.get_json(silent=True) or {}
        email, password = body.get("email"), body.get("password")
        if not email or not password:
            return _problem(400.2, got=f"email: {email}, password: {password}")
        if (email, password) != (self.email, self.password):
            return _problem(401.2)
        self.logins += 1
        token = secrets.token_urlsafe(48)
        now = datetime.now(timezone.utc)
        self._sessions[token] = now + timedelta(hours=24)
        return _json({"createdAt": _iso(now), "expiresAt": _iso(now + timedelta(hours=24)), "token": token})

    def odata_submissions(self, project: int, form: str):
        """OData Data Document (docs: OData Endpoints, Data Document): `GET .../{xmlFormId}.svc/Submissions` →
        {"@odata.context", "value": [rows], "@odata.nextLink"?, "@odata.count"?}. Each row has `__id` (the
        submission's first instanceID), `__system` {submissionDate, updatedAt (null until the XML or metadata
        changes), deletedAt, submitterId (a string), submitterName, attachmentsPresent, attachmentsExpected,
        status, reviewState, deviceId, edits, formVersion} and the current version's data (meta/instanceID is
        the current version's). Newest first. `$top` limits; the `@odata.nextLink` is absolute (Central's
        configured domain), keeps the other parameters, drops `$skip` and adds `$skiptoken` ("01" + base64 of
        {"instanceId": last row}); a later page starts after that row, unaffected by new submissions; `$skip`
        is ignored when `$skiptoken` is given; `$count=true` adds the filtered total. `$filter` takes
        `__system/submissionDate`, `__system/updatedAt`, `__system/submitterId` with lt le eq ne ge gt, not, and,
        or; other features answer 501."""
        rows = sorted(self._submissions.get(form, []), key=lambda s: s.created_at, reverse=True)
        if "$filter" in request.args:
            try:
                test = _Filter(request.args["$filter"]).parse()
            except ValueError:
                return _problem(501.1, feature="$filter expression")
            rows = [row for row in rows if test(row)]
        total = len(rows)
        if "$skiptoken" in request.args:
            after = json.loads(base64.b64decode(request.args["$skiptoken"][2:]))["instanceId"]
            ids = [row.instance_id for row in rows]
            rows = rows[ids.index(after) + 1:] if after in ids else []
        else:
            rows = rows[int(request.args.get("$skip", 0)):]
        top = int(request.args["$top"]) if "$top" in request.args else None
        page, remaining = (rows[:top], rows[top:]) if top is not None else (rows, [])
        service = f"{self.domain}/v1/projects/{project}/forms/{form}.svc"
        body = {"@odata.context": f"{service}/$metadata#Submissions", "value": [self._row(s) for s in page]}
        if remaining and page:
            token = "01" + base64.b64encode(json.dumps({"instanceId": page[-1].instance_id}).encode()).decode()
            params = [(k, v) for k, v in request.args.items(multi=True) if k not in ("$skip", "$skiptoken")]
            body["@odata.nextLink"] = f"{service}/Submissions?{urlencode(params + [('$skiptoken', token)])}"
        if request.args.get("$count", "").lower() == "true":
            body["@odata.count"] = total
        return _json(body)

    def _row(self, submission: _Submission) -> dict:
        current = submission.versions[-1]
        present = sum(content is not None for content in current.attachments.values())
        data = _odata_data(ElementTree.fromstring(current.xml))
        return {"__id": submission.instance_id, "__system": {
            "submissionDate": _iso(submission.created_at), "updatedAt": _iso(submission.updated_at),
            "deletedAt": None, "submitterId": str(submission.submitter_id), "submitterName": "collector",
            "attachmentsPresent": present, "attachmentsExpected": len(current.attachments), "status": None,
            "reviewState": "edited" if submission.updated_at else None, "deviceId": None,
            "edits": len(submission.versions) - 1, "formVersion": ElementTree.fromstring(current.xml).get("version")},
            **data}

    def submission_xml(self, project: int, form: str, instance_id: str, version_id: str | None = None):
        """Retrieving Submission XML (docs: Submissions, `GET .../submissions/{instanceId}.xml`): the current
        version's XML as submitted; Getting Version XML (`.../versions/{versionId}.xml`): that version's."""
        version = self._version(form, instance_id, version_id)
        return Response(version.xml, status=200, content_type="application/xml; charset=utf-8")

    def attachments(self, project: int, form: str, instance_id: str, version_id: str | None = None):
        """Listing expected Submission Attachments (docs: Attachments; and Listing Version expected Attachments):
        200 [{"name": "file1.jpg", "exists": true}, ...] for the files the (current or given) version's XML
        names, `exists` telling whether Central has received each yet."""
        version = self._version(form, instance_id, version_id)
        return _json([{"name": name, "exists": content is not None} for name, content in version.attachments.items()])

    def attachment(self, project: int, form: str, instance_id: str, filename: str, version_id: str | None = None):
        """Downloading an Attachment (docs: Attachments; and Downloading a Version's Attachment): 200 with the
        file's bytes and its MIME type; 404.1 when the file is not (yet) on the server."""
        content = self._version(form, instance_id, version_id).attachments.get(filename)
        if content is None:
            return _problem(404.1)
        return Response(content, status=200,
                        content_type=mimetypes.guess_type(filename)[0] or "application/octet-stream")

    def versions(self, project: int, form: str, instance_id: str):
        """Listing Versions (docs: Submission Versions): all versions' metadata "in descending creation order":
        [{instanceId, instanceName, submitterId (a number), deviceId, userAgent, createdAt, current}]."""
        submission = self._submission_or_404(form, instance_id)
        return _json([{"instanceId": v.instance_id, "instanceName": None, "submitterId": v.submitter_id,
                       "deviceId": None, "userAgent": "Enketo/7.2.3", "createdAt": _iso(v.created_at),
                       "current": v is submission.versions[-1]} for v in reversed(submission.versions)])

    def _submission_or_404(self, form: str, instance_id: str) -> _Submission:
        found = [s for s in self._submissions.get(form, []) if s.instance_id == instance_id]
        if not found:
            raise _NotFound()
        return found[0]

    def _version(self, form: str, instance_id: str, version_id: str | None) -> _Version:
        submission = self._submission_or_404(form, instance_id)
        if version_id is None:
            return submission.versions[-1]
        found = [v for v in submission.versions if v.instance_id == version_id]
        if not found:
            raise _NotFound()
        return found[0]


class _NotFound(Exception):
    pass


class _Filter:
    """The `$filter` subset Central documents for submissions, parsed into a test of one submission."""

    _TOKEN = re.compile(r"\s*(\(|\)|\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?)?|-?\d+|'[^']*'|[\w$/]+)")
    _FIELDS = {"__system/submissionDate": lambda s: s.created_at, "__system/updatedAt": lambda s: s.updated_at,
               "__system/submitterId": lambda s: s.submitter_id}
    _COMPARE = {"lt": lambda a, b: a < b, "le": lambda a, b: a <= b, "eq": lambda a, b: a == b,
                "ne": lambda a, b: a != b, "ge": lambda a, b: a >= b, "gt": lambda a, b: a > b}

    def __init__(self, text: str) -> None:
        self.tokens = []
        position = 0
        while position < len(text.rstrip()):
            match = self._TOKEN.match(text, position)
            if not match:
                raise ValueError(text)
            self.tokens.append(match.group(1))
            position = match.end()

    def parse(self):
        test = self._or()
        if self.tokens:
            raise ValueError(self.tokens)
        return test

    def _next(self) -> str:
        if not self.tokens:
            raise ValueError("incomplete")
        return self.tokens.pop(0)

    def _or(self):
        tests = [self._and()]
        while self.tokens and self.tokens[0] == "or":
            self._next()
            tests.append(self._and())
        return lambda s: any(test(s) for test in tests)

    def _and(self):
        tests = [self._factor()]
        while self.tokens and self.tokens[0] == "and":
            self._next()
            tests.append(self._factor())
        return lambda s: all(test(s) for test in tests)

    def _factor(self):
        token = self._next()
        if token == "not":
            inner = self._factor()
            return lambda s: not inner(s)
        if token == "(":
            inner = self._or()
            if self._next() != ")":
                raise ValueError("unbalanced")
            return inner
        if token not in self._FIELDS:
            raise ValueError(token)
        read, compare, literal = self._FIELDS[token], self._COMPARE[self._next()], self._literal(self._next())

        def test(submission):
            value = read(submission)
            if value is None or literal is None:
                return compare is self._COMPARE["eq"] and value is literal
            return compare(value, literal)
        return test

    @staticmethod
    def _literal(token: str):
        if token == "null":
            return None
        if re.fullmatch(r"-?\d+", token):
            return int(token)
        if token[:4].isdigit():
            moment = datetime.fromisoformat(token)
            return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        raise ValueError(token)


def _instance_id(xml: bytes) -> str:
    return ElementTree.fromstring(xml).find(".//meta/instanceID").text


def _odata_data(element) -> dict:
    """A version's fields as Central's OData shows them: groups as objects, empty fields as null."""
    return {child.tag: (_odata_data(child) if len(child) else (child.text or None)) for child in element}


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _json(body, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json; charset=utf-8")


def _problem(code: float, status: int | None = None, **details) -> Response:
    """Central's Problem: HTTP status = the code's integer part, body {"message", "code" (a number)}."""
    return _json({"message": _PROBLEMS[code].format(**details), "code": code}, status=status or int(code))

