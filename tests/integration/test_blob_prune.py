"""`taizhang blobs prune` beside the live server: files no row names (a refused upload's photo, a crash's partial
file) go once older than the grace period; named files, recent files and files stored again meanwhile stay."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
import uuid

from server import clock
from server.blobs.operations import prune_blobs
from server.storage import blob_store
from tests.collect import visit_xml
from tests.conftest import FIXTURES, command_env, stored_attachments, taizhang

PHOTO = (FIXTURES / "forms" / "logo.png").read_bytes()
REFUSED_PHOTO = PHOTO + b" a different photo, sent with a reused instanceID"
TWO_DAYS = 2 * 24 * 3600


def taizhang_blobs_prune(app, *args: str) -> subprocess.CompletedProcess:
    return taizhang(command_env(app), "blobs", "prune", *args)


def age(path, seconds: int = TWO_DAYS) -> None:
    """Make a file look stored `seconds` ago (the clock is the one thing tests may set)."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def sha_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def send_photo_then_a_clash(server, collector) -> None:
    """A visit with its photo (201), then a different form reusing its instanceID with another photo (409): the
    second photo was streamed to the store before the clash was found, so no row names it."""
    phone = server.client(token=collector.token)
    instance_id = f"uuid:{uuid.uuid4()}"
    assert phone.submit(visit_xml(instance_id, photo="1.jpg"), {"1.jpg": PHOTO}).status_code == 201
    clash = phone.submit(visit_xml(instance_id, head_name="另一个人", photo="2.jpg"), {"2.jpg": REFUSED_PHOTO})
    assert clash.status_code == 409


def test_prune_removes_an_old_unnamed_file_and_a_partial_upload_and_keeps_named_and_recent_ones(server, collector):
    send_photo_then_a_clash(server, collector)
    store = blob_store()
    named, refused = store.path(sha_of(PHOTO)), store.path(sha_of(REFUSED_PHOTO))
    assert named.exists() and refused.exists()
    assert [a["sha256"] for a in stored_attachments()] == [sha_of(PHOTO)]
    partial = store.root / "staging" / "tmpcrashed"
    partial.write_bytes(b"half a photo")

    # Everything is recent: the default grace period spares it all.
    result = taizhang_blobs_prune(server.app)
    assert result.returncode == 0, result.stderr
    assert " 0 named by no row and older than 24 h removed (0 bytes), 0 partial upload(s) removed" in result.stdout
    assert refused.exists() and partial.exists()

    # Two days on, a dry run counts the refused photo (and any other test's leftovers) but removes nothing.
    for path in (named, refused, partial):
        age(path)
    dry = taizhang_blobs_prune(server.app, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would be removed (dry run: nothing removed)" in dry.stdout
    assert refused.exists() and partial.exists()

    result = taizhang_blobs_prune(server.app)
    assert result.returncode == 0, result.stderr
    assert "1 partial upload(s) removed" in result.stdout
    assert not refused.exists() and not partial.exists()
    assert named.exists() and named.read_bytes() == PHOTO
    # Named files are never removed, however old (the store is shared with earlier tests, whose files no row
    # names any more: those go).
    again = taizhang_blobs_prune(server.app, "--older-than", "0")
    assert again.returncode == 0, again.stderr
    assert named.read_bytes() == PHOTO


def test_a_file_stored_again_after_the_listing_is_put_back_not_removed(server, collector):
    store = blob_store()
    blob = store.put_bytes(b"a photo of a refused upload")
    path = store.path(blob.sha256)
    age(path)
    listed_mtime_ns = path.stat().st_mtime_ns
    store.put_bytes(b"a photo of a refused upload")  # a new upload of the same photo, still in its transaction
    assert store.remove_unless_touched(blob.sha256, listed_mtime_ns) is False
    assert path.read_bytes() == b"a photo of a refused upload"
    assert not list((store.root / "staging").glob("prune-*"))
    assert store.remove_unless_touched(blob.sha256, path.stat().st_mtime_ns) is True
    assert not path.exists()


def test_a_file_an_interrupted_prune_set_aside_is_put_back_first(server, collector):
    send_photo_then_a_clash(server, collector)
    store = blob_store()
    named = store.path(sha_of(PHOTO))
    aside = store.root / "staging" / f"prune-{sha_of(PHOTO)}"
    os.replace(named, aside)  # the prune was killed between setting the file aside and deciding on it
    result = prune_blobs(store, now=clock.now())
    assert result.put_back == 1
    assert named.read_bytes() == PHOTO and not aside.exists()
