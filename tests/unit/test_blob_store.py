"""Unit tests for server.storage.BlobStore: content addressing, hashes, deduplication, size limit."""

from __future__ import annotations

import hashlib
import io

import pytest

from server.storage import BlobStore, StoredBlob
from sync.errors import PayloadTooLarge

CONTENT = b"\xff\xd8\xff\xe0 fake jpeg bytes"
SHA = hashlib.sha256(CONTENT).hexdigest()
CHUNK = 256 * 1024


@pytest.fixture
def store(tmp_path):
    return BlobStore(tmp_path / "blobs")


def stored_files(store: BlobStore) -> list[str]:
    """Every regular file under the store root (staging included), as sorted relative paths."""
    return sorted(str(p.relative_to(store.root)) for p in store.root.rglob("*") if p.is_file())


def test_path_is_two_level_fan_out_of_sha256(store):
    assert store.path(SHA) == store.root / SHA[:2] / SHA[2:4] / SHA


def test_put_stream_returns_sha256_md5_and_size(store):
    blob = store.put_stream(io.BytesIO(CONTENT), max_bytes=1024)
    assert blob == StoredBlob(sha256=SHA, md5=hashlib.md5(CONTENT).hexdigest(), size=len(CONTENT))


def test_put_stream_writes_content_addressed_file(store):
    store.put_stream(io.BytesIO(CONTENT), max_bytes=1024)
    assert store.path(SHA).read_bytes() == CONTENT


def test_put_stream_leaves_only_the_blob_and_an_empty_staging_dir(store):
    store.put_stream(io.BytesIO(CONTENT), max_bytes=1024)
    assert (stored_files(store), list((store.root / "staging").iterdir())) == ([f"{SHA[:2]}/{SHA[2:4]}/{SHA}"], [])


def test_same_content_twice_is_one_file(store):
    first = store.put_stream(io.BytesIO(CONTENT), max_bytes=1024)
    second = store.put_stream(io.BytesIO(CONTENT), max_bytes=1024)
    assert (first == second, stored_files(store)) == (True, [f"{SHA[:2]}/{SHA[2:4]}/{SHA}"])


def test_different_content_is_two_files(store):
    a = store.put_bytes(b"a")
    b = store.put_bytes(b"b")
    assert stored_files(store) == sorted([f"{a.sha256[:2]}/{a.sha256[2:4]}/{a.sha256}",
                                          f"{b.sha256[:2]}/{b.sha256[2:4]}/{b.sha256}"])


def test_content_of_exactly_max_bytes_is_accepted(store):
    assert store.put_stream(io.BytesIO(CONTENT), max_bytes=len(CONTENT)).size == len(CONTENT)


def test_content_over_max_bytes_raises_payload_too_large(store):
    with pytest.raises(PayloadTooLarge) as caught:
        store.put_stream(io.BytesIO(CONTENT), max_bytes=len(CONTENT) - 1)
    assert (caught.value.code, caught.value.status) == ("413.1", 413)


def test_content_over_max_bytes_leaves_no_file_behind(store):
    with pytest.raises(PayloadTooLarge):
        store.put_stream(io.BytesIO(CONTENT), max_bytes=len(CONTENT) - 1)
    assert (stored_files(store), list((store.root / "staging").iterdir())) == ([], [])


def test_multi_chunk_content_over_max_bytes_leaves_no_file_behind(store):
    with pytest.raises(PayloadTooLarge):
        store.put_stream(io.BytesIO(b"x" * (3 * CHUNK)), max_bytes=CHUNK + 1)
    assert (stored_files(store), list((store.root / "staging").iterdir())) == ([], [])


def test_multi_chunk_content_is_hashed_whole(store):
    data = bytes(range(256)) * (CHUNK // 256 * 2 + 3)
    blob = store.put_stream(io.BytesIO(data), max_bytes=len(data))
    assert (blob.sha256, blob.md5, blob.size) == (hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest(),
                                                  len(data))


class _FailingStream(io.RawIOBase):
    """Yields one chunk, then fails like a dropped connection."""

    def __init__(self) -> None:
        self.calls = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.calls += 1
        if self.calls == 1:
            return b"partial"
        raise ConnectionResetError("client went away")


def test_failing_stream_propagates_and_leaves_no_file_behind(store):
    with pytest.raises(ConnectionResetError):
        store.put_stream(_FailingStream(), max_bytes=1024)
    assert (stored_files(store), list((store.root / "staging").iterdir())) == ([], [])


def test_put_bytes_stores_content(store):
    assert store.put_bytes(CONTENT).sha256 == SHA


def test_put_bytes_accepts_empty_content(store):
    blob = store.put_bytes(b"")
    assert (blob.size, store.path(blob.sha256).read_bytes()) == (0, b"")


def test_open_reads_back_the_content(store):
    blob = store.put_bytes(CONTENT)
    with store.open(blob.sha256) as handle:
        assert handle.read() == CONTENT


def test_open_unknown_blob_raises_file_not_found(store):
    with pytest.raises(FileNotFoundError):
        store.open("0" * 64)
