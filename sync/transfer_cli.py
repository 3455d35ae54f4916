"""`taizhang-transfer`: the transfer client's console command (no Flask: it runs on a village office laptop)."""

from __future__ import annotations

from pathlib import Path

import click

from sync.transfer import Pusher, TransferError, find_instances

__all__ = ["main"]


@click.group()
def main():
    """Move saved visits between phones and servers."""


@main.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--server", required=True, help="the address as in Collect: http://host:port/key/<token>, or with --user")
@click.option("--user", "username", help="user name (Digest over HTTP, Basic over HTTPS)")
@click.option("--password", envvar="TAIZHANG_TRANSFER_PASSWORD", help="or the TAIZHANG_TRANSFER_PASSWORD variable")
@click.option("--state", "state_path", type=click.Path(dir_okay=False, path_type=Path),
              help="where what was sent is remembered (default: FOLDER/.taizhang-sent.json)")
def push(folder: Path, server: str, username: str | None, password: str | None, state_path: Path | None):
    """Send the saved forms of a phone's ODK Collect folder (copied over USB) as Collect would send them; running
    it again sends nothing twice."""
    instances = find_instances(folder)
    pusher = Pusher(server, state_path or folder / ".taizhang-sent.json", username=username, password=password)
    with click.progressbar(length=len(instances), label="sending", file=click.get_text_stream("stderr")) as bar:
        try:
            result = pusher.push(instances, progress=lambda number, total, name: bar.update(1))
        except TransferError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"sent {len(result.sent)}, already there {len(result.already_there)}, refused {len(result.refused)}")
    for name, message in result.refused:
        click.echo(f"refused {name}: {message}")
    if result.refused:
        raise SystemExit(1)
