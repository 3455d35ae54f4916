"""Fill an XForm with JavaRosa — the form engine inside ODK Collect — and get the submission XML.

``fill_form`` drives ``FillForm.java`` (compiled once per session against the JavaRosa bundled in
pyxform's ODK_Validate.jar) in a fresh JVM. The Java program loads the form as Collect's
FormLoaderTask does (media folder as ``jr://file/``, CSV secondary instances, ``pulldata()``,
preloads such as ``instanceID``/``start``/``today``/``deviceid``), then swipes forward screen by
screen like Collect: each question (or field-list group) it lands on is answered with
``FormEntryController.answerQuestion(index, answer, true)``; the first answer JavaRosa rejects
(constraint / required) stops the walk, like Collect keeping the user on that screen. At the end
of the form it runs Collect's "finalize" (``FormDef.validate()`` over the whole form), then
``finalizeFormEntry()`` and serializes the instance with ``XFormSerializingVisitor``.

Answers
-------
``answers`` is a mapping or an ordered list of ``(path, value)`` pairs:

* ``path`` is the node's absolute path, e.g. ``/data/household_no``, ``/data/grp/phone``.
  Inside repeats, give the 1-based position: ``/data/members[2]/name``; ``[1]`` may be omitted
  (``/data/members/name`` is the first member). Nested: ``/data/hh[2]/members[3]/name``.
* ``value`` is what the enumerator enters, as text:

  ==============  ==================================================
  text            any string
  integer         ``"42"`` (or an ``int``)
  decimal         ``"3.5"`` (or a ``float``)
  date            ``"2024-05-01"`` (or a ``datetime.date``)
  time/dateTime   ``"10:30:00"``, ``"2024-05-01T10:30:00"``
  select_one      the choice *name* (``"yes"``); must be among the choices offered at that
                  moment (choice_filter and CSV/XML itemsets are evaluated)
  select_multiple space-separated names ``"a c"`` (or a list/tuple of names)
  geopoint        ``"lat lon alt acc"``, e.g. ``"31.23 121.47 10 5"``
  ``None`` / ""   clear the field (leave it empty, overriding a default)
  ==============  ==================================================

  Questions not in ``answers`` keep whatever Collect would show (their default, or empty).
  Calculates and preloads are computed by JavaRosa and cannot be answered.

Repeats
-------
When the walk reaches Collect's "Add another <repeat>?" prompt for instance *n*, it adds the
instance if some answer path refers to position *n* or higher of that repeat
(``/data/members[3]/name`` creates members 2 and 3; pyxform forms already contain member 1).
``repeats={"/data/members": 3}`` sets the count explicitly (positions of outer repeats included in
the key: ``{"/data/hh[2]/members": 1}``); an explicit count below the existing instances deletes the
extras, so ``{"/data/members": 0}`` submits no member. ``jr:count`` repeats are sized by JavaRosa.

Going back
----------
``earlier`` (same form as ``answers``) is a first pass: the walk answers these screen by screen as
above until every one of them is given, then goes back to the start and walks the form again with
``answers`` — a collector who swipes back and changes an answer. What the model holds from the
first pass stays (a question that is no longer relevant keeps its value in the model, though it is
left out of the submission; a ``once()`` keeps what it computed). ``trace`` marks the turn with
``back-to-start``; an earlier answer never reached is listed in ``unused``.

Languages
---------
``language="中文 (zh)"`` switches the form language (Collect's language menu) — it must be one of the
form's ``<translation lang=...>`` names (``FillResult.languages``); default is the form's default
language. It affects constraint/required messages in ``violations`` (jr:constraintMsg /
jr:requiredMsg, with Collect's generic English fallbacks "Sorry, this response is invalid!" /
"Sorry, this response is required!").

Media
-----
``media={"households.csv": b"name,label,...\\n..."}`` — files of the form's media folder
(``jr://file/NAME``, ``jr://file-csv/NAME``, ``jr://images/NAME`` ... all resolve there); values
may be ``bytes``, ``str`` (text content, written as UTF-8) or a ``Path`` to copy.
``pulldata('households', 'col', 'keycol', key)`` reads ``households.csv`` like Collect does.

Result
------
``FillResult(ok, xml, violations, screens, unused, trace, language, languages)``: ``xml`` is the
serialized instance (bytes, ``b""`` unless ok); ``violations`` is a list of
``Violation(path, kind, message, stage)`` with ``kind`` in ``"constraint" | "required" | "invalid"``
("invalid": a value Collect's widget could not take, e.g. not a choice or not a number) and
``stage`` ``"answer"`` (swiping forward) or ``"finalize"``; ``screens`` counts the screens Collect
showed (question, field-list group, "add repeat?" prompt); ``unused`` lists answer paths never
reached (typo, non-relevant, or after the stop). With ``strict=True`` (default) a run that did not
stop on a violation raises ``FormEngineError`` if any answer was unused.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pyxform.validators.odk_validate as odk_validate

__all__ = ["FillResult", "FormEngineError", "Violation", "available", "fill_form", "odk_validate_jar"]

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "FillForm.java"
BUILD_ROOT = HERE / "build"
JVM_FLAGS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto", "-Dfile.encoding=UTF-8"]


class FormEngineError(RuntimeError):
    """The harness or JavaRosa failed (not a form violation): parse error, XPath error, bad script..."""


@dataclass(frozen=True)
class Violation:
    path: str
    kind: str  # "constraint" | "required" | "invalid"
    message: str
    stage: str = "answer"  # "answer" | "finalize"


@dataclass
class FillResult:
    ok: bool
    xml: bytes
    violations: list[Violation]
    screens: int
    unused: list[str] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)
    language: str | None = None
    languages: list[str] = field(default_factory=list)

    @property
    def root(self) -> ET.Element:
        """The submission's root element (raises if the form was not completed)."""
        if not self.xml:
            raise FormEngineError(f"no submission: {self.violations}")
        return ET.fromstring(self.xml)

    def value(self, path: str) -> str | None:
        """Text of the node at ``/data/members[2]/name`` in the submission (None if absent)."""
        steps = [s for s in path.strip("/").split("/") if s]
        node = self.root
        if not steps or steps[0].split("[")[0] != node.tag:
            raise ValueError(f"{path!r} does not start with the root /{node.tag}")
        for step in steps[1:]:
            name, _, pos = step.partition("[")
            matches = node.findall(name)
            index = int(pos.rstrip("]")) - 1 if pos else 0
            if index >= len(matches):
                return None
            node = matches[index]
        return node.text or ""


def odk_validate_jar() -> Path:
    """pyxform's bundled ODK_Validate.jar (JavaRosa + kxml + jackson + commons-csv)."""
    return Path(odk_validate.__file__).parent / "bin" / "ODK_Validate.jar"


def available() -> str | None:
    """None if the harness can run here, else the reason it cannot (for pytest.skip)."""
    missing = [tool for tool in ("java", "javac") if shutil.which(tool) is None]
    if missing:
        return f"{' and '.join(missing)} not on PATH (JDK needed for the JavaRosa form-engine harness)"
    if not odk_validate_jar().is_file():
        return f"pyxform's ODK_Validate.jar not found at {odk_validate_jar()}"
    return None


@cache
def _build_dir() -> Path:
    """Compile FillForm.java once; cached on disk by (jar, jar size/mtime, source) hash."""
    jar = odk_validate_jar()
    stat = jar.stat()
    key = hashlib.sha256(
        f"{jar.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|".encode() + SOURCE.read_bytes()
    ).hexdigest()[:16]
    target = BUILD_ROOT / key
    if (target / "FillForm.class").is_file():
        return target
    BUILD_ROOT.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{key}-", dir=BUILD_ROOT))
    try:
        proc = subprocess.run(
            ["javac", "-nowarn", "-encoding", "UTF-8", "-cp", str(jar), "-d", str(staging), str(SOURCE)],
            check=False, capture_output=True, text=True, timeout=180,
        )
        if proc.returncode != 0:
            raise FormEngineError(f"javac FillForm.java failed:\n{proc.stdout}{proc.stderr}")
        try:
            staging.rename(target)  # atomic; a concurrent worker may have won the race
        except OSError:
            if not (target / "FillForm.class").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for stale in BUILD_ROOT.iterdir():  # builds of older FillForm.java / jar versions
        if stale.is_dir() and not stale.name.startswith(key):
            shutil.rmtree(stale, ignore_errors=True)
    return target


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("booleans are ambiguous as answers; pass the choice name or text")
    if isinstance(value, (_dt.date, _dt.datetime, _dt.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return " ".join(str(v) for v in value)
    return str(value)


def fill_form(
    xform: bytes | str | Path,
    answers: Mapping[str, object] | Iterable[tuple[str, object]] = (),
    *,
    media: Mapping[str, bytes | str | Path] | None = None,
    language: str | None = None,
    repeats: Mapping[str, int] | None = None,
    earlier: Mapping[str, object] | Iterable[tuple[str, object]] = (),
    properties: Mapping[str, str] | None = None,
    strict: bool = True,
    timeout: float = 120,
) -> FillResult:
    """Fill ``xform`` with ``answers`` the way ODK Collect would; see the module docstring.

    ``xform``: the XForm as bytes/str (XML text) or a Path to it. ``properties`` overrides
    property-manager values for ``jr:preload="property"`` (default deviceid
    ``collect:formengine-test``).
    """
    reason = available()
    if reason:
        raise FormEngineError(reason)
    if isinstance(xform, Path):
        xform_bytes = xform.read_bytes()
    elif isinstance(xform, str):
        xform_bytes = xform.encode("utf-8")
    else:
        xform_bytes = bytes(xform)
    pairs = list(answers.items()) if isinstance(answers, Mapping) else [tuple(a) for a in answers]
    first = list(earlier.items()) if isinstance(earlier, Mapping) else [tuple(a) for a in earlier]
    script = {
        "answers": [[str(path), _text(value)] for path, value in pairs],
        "earlier": [[str(path), _text(value)] for path, value in first],
        "language": language,
        "repeats": {str(k): int(v) for k, v in (repeats or {}).items()},
        "properties": {str(k): str(v) for k, v in (properties or {}).items()},
    }
    build = _build_dir()
    with tempfile.TemporaryDirectory(prefix="formengine-") as tmp:
        form_path = Path(tmp) / "form.xml"
        form_path.write_bytes(xform_bytes)
        media_dir = Path(tmp) / "form-media"
        media_dir.mkdir()
        for name, content in (media or {}).items():
            dest = media_dir / name
            if dest.parent != media_dir:
                raise ValueError(f"media name must be a plain file name: {name!r}")
            if isinstance(content, Path):
                shutil.copyfile(content, dest)
            elif isinstance(content, str):
                dest.write_text(content, encoding="utf-8")
            else:
                dest.write_bytes(bytes(content))
        cmd = ["java", *JVM_FLAGS, "-cp", os.pathsep.join([str(odk_validate_jar()), str(build)]),
               "FillForm", str(form_path), str(media_dir)]
        proc = subprocess.run(cmd, input=json.dumps(script).encode("utf-8"), capture_output=True, timeout=timeout,
                              check=False)
    try:
        out = json.loads(proc.stdout.decode("utf-8"))
    except ValueError:
        raise FormEngineError(
            f"FillForm exited {proc.returncode} without JSON:\n{proc.stdout[-2000:]!r}\n"
            f"{proc.stderr.decode('utf-8', 'replace')[-4000:]}"
        ) from None
    if "error" in out:
        raise FormEngineError(f"JavaRosa: {out['error']}\n{out.get('stacktrace', '')}")
    result = FillResult(
        ok=bool(out["ok"]),
        xml=(out.get("xml") or "").encode("utf-8"),
        violations=[Violation(**v) for v in out["violations"]],
        screens=int(out["screens"]),
        unused=list(out.get("unused", [])),
        trace=list(out.get("trace", [])),
        language=out.get("language"),
        languages=list(out.get("languages", [])),
    )
    stopped = any(v.stage == "answer" for v in result.violations)
    if strict and result.unused and not stopped:
        raise FormEngineError(
            f"answers never reached (wrong path, not relevant, or repeat not created): {result.unused}; "
            f"screens visited: {result.trace}"
        )
    return result
