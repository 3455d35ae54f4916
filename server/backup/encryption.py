"""Backups encrypted at rest with age (age-encryption.org/v1, through pyrage): the configured key, and streams that
encrypt an archive as it is written and decrypt it as it is read, never holding it in memory.

The key is an age X25519 key, as `age-keygen` or `taizhang backup-key` writes it: a secret key `AGE-SECRET-KEY-1…`
(backs up and restores) or only its public key `age1…` (backs up; the secret key is kept elsewhere for restoring).
An encrypted archive is a plain age file: `age -d -i KEYFILE ARCHIVE > ARCHIVE.tar.gz` opens it without taizhang.

age encrypts in 64 KiB chunks, each authenticated, and marks the last one: a wrong key is refused before any data,
a changed byte at its chunk, a file cut short at its end. pyrage runs age over Python file objects; a thread joins
it to the tar writer or reader through a pipe (encrypt_io and decrypt_io read from one file and write to another).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyrage
from pyrage import x25519

from sync.errors import BackupKeyInvalid, BackupKeyNeeded, BackupKeyWrong, BackupTampered, DatabaseToolFailed

__all__ = ["AGE_MAGIC", "BackupKey", "load_key", "new_key_file", "is_encrypted", "Encrypting", "Decrypted"]

AGE_MAGIC = b"age-encryption.org/v1\n"
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class BackupKey:
    public: str  # age1…
    recipient: x25519.Recipient
    identity: x25519.Identity | None  # None when only the public key is configured

    def for_restore(self) -> x25519.Identity:
        if self.identity is None:
            raise BackupKeyNeeded(f"the configured key is the public key {self.public}, which only encrypts")
        return self.identity


def load_key(text: str | None, file: str | Path | None) -> BackupKey | None:
    """The key configured as TAIZHANG_BACKUP_KEY (its text) or TAIZHANG_BACKUP_KEY_FILE (a file holding it), or
    None when neither is set. Lines starting with # (age-keygen's comments) are skipped."""
    if text and file:
        raise BackupKeyInvalid("set TAIZHANG_BACKUP_KEY or TAIZHANG_BACKUP_KEY_FILE, not both")
    if file:
        try:
            text = Path(file).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise BackupKeyInvalid(f"TAIZHANG_BACKUP_KEY_FILE {file}: {exc}") from exc
    if not text:
        return None
    source = f"TAIZHANG_BACKUP_KEY_FILE {file}" if file else "TAIZHANG_BACKUP_KEY"
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    if len(lines) != 1:
        raise BackupKeyInvalid(f"{source} must hold one key (AGE-SECRET-KEY-1… or age1…), it holds {len(lines)} "
                               f"line(s)")
    try:
        if lines[0].startswith("AGE-SECRET-KEY-1"):
            identity = x25519.Identity.from_str(lines[0])
            recipient = identity.to_public()
            return BackupKey(public=str(recipient), recipient=recipient, identity=identity)
        if lines[0].startswith("age1"):
            return BackupKey(public=lines[0], recipient=x25519.Recipient.from_str(lines[0]), identity=None)
    except (pyrage.IdentityError, pyrage.RecipientError, ValueError) as exc:
        raise BackupKeyInvalid(f"{source} is not a valid age key: {exc}") from exc
    raise BackupKeyInvalid(f"{source} is not an age X25519 key (AGE-SECRET-KEY-1… or age1…)")


def new_key_file(path: Path, created: str) -> str:
    """Write a new secret key to `path` (which must not exist), readable by its owner only, as age-keygen does;
    returns its public key."""
    identity = x25519.Identity.generate()
    public = str(identity.to_public())
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(descriptor, "w", encoding="utf-8") as handle:
        handle.write(f"# created: {created}\n# public key: {public}\n{identity}\n")
    return public


def is_encrypted(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(len(AGE_MAGIC)) == AGE_MAGIC


class Encrypting:
    """`with Encrypting(out, key) as sink:` what is written to `sink` reaches `out` encrypted to the key's public
    key; leaving the block without an error completes the age file (its last chunk), else the error is raised."""

    def __init__(self, out: BinaryIO, key: BackupKey) -> None:
        self._out, self._key = out, key
        self._error: BaseException | None = None

    def __enter__(self) -> BinaryIO:
        read_end, write_end = os.pipe()
        self._reader, self._sink = open(read_end, "rb"), open(write_end, "wb")
        self._thread = threading.Thread(target=self._run, name="backup-encrypt", daemon=True)
        self._thread.start()
        return self._sink

    def _run(self) -> None:
        try:
            pyrage.encrypt_io(self._reader, self._out, [self._key.recipient])
        except BaseException as exc:  # handed to the writing thread
            self._error = exc
        finally:
            self._reader.close()

    def __exit__(self, kind, value, traceback) -> None:
        try:
            self._sink.close()
        except OSError:
            pass  # the encrypting side ended first: its error is the one to report
        self._thread.join()
        # The writer's own error stands, unless it is the broken pipe the encrypting side left when it failed.
        if self._error is not None and (kind is None or issubclass(kind, OSError)):
            raise DatabaseToolFailed(f"encrypting the archive failed: {self._error}") from self._error


class Decrypted:
    """`with Decrypted(archive, key) as decrypted:` the archive's plaintext, read from `decrypted.stream`. Call
    `read_to_end()`
    after reading everything needed to have the whole file authenticated (a file cut short is found only at its
    end). An error of the decryption (wrong key, a changed or missing chunk) is raised in place of the error the
    reader met on the stream it cut short."""

    def __init__(self, archive: Path, key: BackupKey | None) -> None:
        if key is None:
            raise BackupKeyNeeded(f"{archive.name} is encrypted and no backup key is configured")
        self._archive, self._identity = archive, key.for_restore()
        self._error: BaseException | None = None
        self._ended = threading.Event()

    def __enter__(self) -> Decrypted:
        self._source = open(self._archive, "rb")
        read_end, write_end = os.pipe()
        self.stream, self._writer = open(read_end, "rb"), open(write_end, "wb")
        self._thread = threading.Thread(target=self._run, name="backup-decrypt", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            pyrage.decrypt_io(self._source, self._writer, [self._identity])
        except BaseException as exc:  # handed to the reading thread
            self._error = exc
        finally:
            self._ended.set()
            try:
                self._writer.close()
            except OSError:
                pass  # the reader went away first

    def read_to_end(self) -> None:
        """Read what is left (tar's padding) so that age checks the file's last chunk; raise its error if any."""
        while self.stream.read(_CHUNK):
            pass
        self._thread.join()
        self._raise_decryption_error()

    def _raise_decryption_error(self) -> None:
        error = self._error
        if error is None:
            return
        if isinstance(error, pyrage.DecryptError) and "no matching keys" in str(error).lower():
            raise BackupKeyWrong() from error
        raise BackupTampered(f"{self._archive.name}: {error}") from error

    def __exit__(self, kind, value, traceback) -> None:
        ended_by_itself = self._ended.is_set()  # before the stream is closed: not a broken pipe of ours
        self.stream.close()
        self._thread.join()
        self._source.close()
        if kind is not None and ended_by_itself:
            self._raise_decryption_error()
