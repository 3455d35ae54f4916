"""Reading a submission's multipart body: the XML part and spooled attachment files, within size limits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from tempfile import SpooledTemporaryFile
from typing import BinaryIO

import multipart
from werkzeug.exceptions import RequestEntityTooLarge

from server.submissions.operations import IncomingFile
from sync.errors import MultipartMalformed, PayloadTooLarge, UnsupportedMediaType, XmlPartMissing

__all__ = ["UploadLimits", "read_submission_body", "XML_PART"]

XML_PART = "xml_submission_file"
_SPOOL_BYTES = 512 * 1024


@dataclass(frozen=True, slots=True)
class UploadLimits:
    body_bytes: int
    xml_bytes: int
    attachment_bytes: int
    parts: int = 500

    @classmethod
    def from_config(cls, config) -> UploadLimits:
        return cls(body_bytes=config["TAIZHANG_MAX_SUBMISSION_BYTES"], xml_bytes=config["TAIZHANG_MAX_XML_BYTES"],
                   attachment_bytes=config["TAIZHANG_MAX_ATTACHMENT_BYTES"])


@dataclass(slots=True)
class _Part:
    name: str | None
    filename: str | None
    content_type: str | None
    file: SpooledTemporaryFile
    size: int = 0


@contextmanager
def read_submission_body(stream: BinaryIO, mimetype: str, mimetype_params: dict, content_length: int | None,
                         limits: UploadLimits) -> Iterator[tuple[bytes, list[IncomingFile]]]:
    """Parse with the `multipart` library's push parser (no regex compiled per boundary, limits on headers, parts
    and sizes); parts past 512 KiB go to temporary files, and every one is closed however the request ends."""
    if mimetype != "multipart/form-data":
        raise UnsupportedMediaType(mimetype or "no Content-Type")
    boundary = mimetype_params.get("boundary")
    if not boundary:
        raise MultipartMalformed("no boundary")
    parts: list[_Part] = []
    try:
        _parse(stream, boundary, content_length, limits, parts)
        xml_parts = [part for part in parts if part.name == XML_PART]
        if not xml_parts:
            raise XmlPartMissing()
        if len(xml_parts) > 1:  # which one is the submission? Collect sends one
            raise MultipartMalformed(f"{len(xml_parts)} {XML_PART} parts")
        xml_part = xml_parts[0]
        if xml_part.size > limits.xml_bytes:
            raise PayloadTooLarge(f"{XML_PART} over {limits.xml_bytes} bytes")
        xml = xml_part.file.read()
        # A part without a file name (none, or filename="" as an empty file input sends) is no attachment: the XML
        # cannot name it, so it is passed over, never stored.
        yield xml, [IncomingFile(name=part.filename, content_type=part.content_type, stream=part.file)
                    for part in parts if part is not xml_part and part.filename]
    finally:
        for part in parts:
            part.file.close()


def _parse(stream: BinaryIO, boundary: str, content_length: int | None, limits: UploadLimits,
           parts: list[_Part]) -> None:
    total = 0
    parser = multipart.PushMultipartParser(
        boundary, content_length=content_length if content_length is not None else -1,
        max_segment_count=limits.parts, max_segment_size=max(limits.xml_bytes, limits.attachment_bytes))
    try:
        for event in parser.parse_blocking(stream.read, 64 * 1024):
            if isinstance(event, multipart.MultipartSegment):
                parts.append(_Part(event.name, event.filename, event.content_type,
                                   SpooledTemporaryFile(max_size=_SPOOL_BYTES, mode="w+b")))
            elif event:
                total += len(event)
                if total > limits.body_bytes:
                    raise PayloadTooLarge()
                parts[-1].size += len(event)
                parts[-1].file.write(event)
            else:
                parts[-1].file.seek(0)
    except (RequestEntityTooLarge, multipart.ParserLimitReached) as exc:
        raise PayloadTooLarge() from exc
    except multipart.MultipartError as exc:
        raise MultipartMalformed(str(exc)[:200]) from exc
