"""`taizhang form`: publish questionnaires (XLSForm or XForm) and list them."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from server.database import commit
from server.forms.operations import PublishResult, publish_form
from server.forms.queries import all_forms
from server.storage import blob_store
from server.users.models import ROLES

__all__ = ["form", "print_publish"]


@click.group()
def form():
    """Publish and list forms."""


@form.command("publish")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--media", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="a media file the form uses (repeatable)")
@click.option("--audience", default="collector", type=click.Choice(ROLES))
@click.option("--area", "area_name", help="only users inside this area get the form")
@with_appcontext
def form_publish(source, media, audience, area_name):
    """Compile (pyxform + ODK Validate) and publish an XLSForm or XForm as a new version."""
    result = publish_form(source, blob_store(), media=list(media), audience=audience, area=area_name)
    commit()
    print_publish(result)


def print_publish(result: PublishResult) -> None:
    """The version published (or found already published), its media, and what is amiss on stderr."""
    state = "published" if result.created else "already published (identical)"
    click.echo(f"{result.xml_form_id} version {result.version} ({result.title}): {state}")
    for name in result.media_attached:
        click.echo(f"  media: {name}")
    for name in result.media_ignored:
        click.echo(f"  note: {name} is not used by this form; not attached", err=True)
    for name in result.media_missing:
        click.echo(f"  WARNING: media file {name} is referenced but was not given (--media)", err=True)
    for warning in result.warnings:
        click.echo(f"  warning: {warning}", err=True)


@form.command("list")
@with_appcontext
def form_list():
    for listed in all_forms():
        form, version = listed.form, listed.version
        click.echo(f"{form.xml_form_id:24} {version.version if version else '-':14} {form.state:6} "
                   f"{form.audience:12} {listed.area_full_name or '(all)'}  {form.title}")
