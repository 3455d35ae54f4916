"""`taizhang-transfer`: the transfer client's console command (no Flask: it runs on a village office laptop)."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path

import click

from sync.central import CentralClient, Puller
from sync.replicate import Replicator, server_auth
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
    with click.progressbar(length=len(instances), label="sending", file=sys.stderr) as bar:
        try:
            result = pusher.push(instances, progress=lambda number, total, name: bar.update(1))
        except TransferError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"sent {len(result.sent)}, already there {len(result.already_there)}, refused {len(result.refused)}")
    for name, message in result.refused:
        click.echo(f"refused {name}: {message}")
    if result.refused:
        raise SystemExit(1)


@main.command()
@click.option("--central", required=True, help="the ODK Central server, e.g. https://central.example.org")
@click.option("--email", required=True, help="a Central web user who may read the project's submissions")
@click.option("--password", "central_password", envvar="TAIZHANG_CENTRAL_PASSWORD", required=True,
              help="the Central user's password, or the TAIZHANG_CENTRAL_PASSWORD variable")
@click.option("--project", required=True, type=int, help="the Central project's number")
@click.option("--form", "forms", required=True, multiple=True, help="a form's xmlFormId (repeat for several)")
@click.option("--submitter", type=int, help="only this Central actor's submissions (an app user's id)")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="the folder the submissions are saved in (instances/ as on a phone) and the state kept")
@click.option("--server", required=True, help="our server, as for push: http://host:port/key/<token>, or with --user")
@click.option("--user", "username", help="user name on our server (Digest over HTTP, Basic over HTTPS)")
@click.option("--server-password", "password", envvar="TAIZHANG_TRANSFER_PASSWORD",
              help="the password on our server, or the TAIZHANG_TRANSFER_PASSWORD variable")
def pull(central: str, email: str, central_password: str, project: int, forms: tuple[str, ...],
         submitter: int | None, out: Path, server: str, username: str | None, password: str | None):
    """Fetch the chosen forms' submissions and attachments from ODK Central and send them to our server with their
    original instanceIDs; running it again fetches only what is new and sends nothing twice."""
    out.mkdir(parents=True, exist_ok=True)
    client = CentralClient(central, email, central_password)
    pusher = Pusher(server, out / ".taizhang-sent.json", username=username, password=password)
    bars = _Bars()
    try:
        result = Puller(client, out, pusher).pull(project, forms, submitter=submitter, progress=bars.update)
    except TransferError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        bars.close()
    click.echo(f"downloaded {len(result.downloaded)}, sent {len(result.sent)}, "
               f"already there {len(result.already_there)}, refused {len(result.refused)}")
    for name, missing in result.waiting:
        click.echo(f"waiting for {', '.join(missing)} of {name}: Central has not received it yet")
    for name, filename in result.unsafe:
        click.echo(f"not saved: {filename!r} of {name} is not a plain file name")
    for name, message in result.refused:
        click.echo(f"refused {name}: {message}")
    if result.refused:
        raise SystemExit(1)


class _Bars:
    """One progress bar (on stderr) per stage: downloading each form, then sending."""

    def __init__(self) -> None:
        self.stage = None
        self.open = ExitStack()
        self.bar = None

    def update(self, stage: str, number: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = self.open.enter_context(
                click.progressbar(length=total, label=stage, file=sys.stderr))
        self.bar.update(1)

    def close(self) -> None:
        self.open.close()


@main.command()
@click.option("--from", "source", required=True, help="the town server's address, e.g. https://qingshan.example.org")
@click.option("--from-user", "source_user", required=True, help="a town officer of that town")
@click.option("--from-password", "source_password", envvar="TAIZHANG_SOURCE_PASSWORD", required=True,
              help="or the TAIZHANG_SOURCE_PASSWORD variable")
@click.option("--to", "target", required=True, help="the county server's address")
@click.option("--to-user", "target_user", required=True, help="an account of the county server for that town")
@click.option("--to-password", "target_password", envvar="TAIZHANG_TARGET_PASSWORD", required=True,
              help="or the TAIZHANG_TARGET_PASSWORD variable")
@click.option("--state", "state_path", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("taizhang-replicate.json"), show_default=True,
              help="where the cursor and what is to be tried again are kept")
def replicate(source: str, source_user: str, source_password: str, target: str, target_user: str,
              target_password: str, state_path: Path):
    """Copy the submissions a town server has and the county server lacks (from where the last run stopped), then
    the town's register decisions (merges, moves, tiers, settled conflicts, rejected visits) and their undoing, and
    the service notices both ways (the town's to the county; those to the town, and answers to its own, back)."""
    replicator = Replicator(source, target, state_path, source_auth=server_auth(source, source_user, source_password),
                            target_auth=server_auth(target, target_user, target_password))
    with click.progressbar(length=0, label="replicating", file=sys.stderr,
                           show_percent=False, show_pos=True) as bar:
        try:
            result = replicator.run(progress=lambda instance_id: bar.update(1))
        except TransferError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"sent {len(result.sent)}, already there {len(result.already_there)}, "
               f"waiting for attachments {len(result.incomplete)}, refused {len(result.refused)}")
    click.echo(f"decisions: sent {len(result.decisions_sent)}, waiting for their visits to be merged "
               f"{len(result.decisions_waiting)}, refused {len(result.decisions_refused)}")
    click.echo(f"service notices: sent {len(result.notices_sent)}, brought back {len(result.notices_pulled)}, "
               f"refused {len(result.notices_refused)}")
    for identifier, message in result.refused + result.decisions_refused + result.notices_refused:
        click.echo(f"refused {identifier}: {message}")
    if result.refused or result.decisions_refused or result.notices_refused:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
