"""ODK Collect's configuration QR code: the settings JSON (general, admin, project), zlib-compressed (a zlib header,
as Java's Deflater writes it) and base64-encoded without line breaks, as Collect's QR scanner reads it."""

from __future__ import annotations

import base64
import json
import zlib

__all__ = ["collector_settings", "encode_settings", "decode_settings"]


def collector_settings(server_url: str, *, project_name: str, language: str = "zh") -> dict:
    """Settings for a collector's phone: the token URL as server (no password needed), forms kept exactly as the
    server lists them, finalized forms sent on any network; the collector cannot change the server."""
    return {
        "general": {
            "server_url": server_url,
            "form_update_mode": "match_exactly",
            "autosend": "wifi_and_cellular",
            "app_language": language,
        },
        "admin": {"change_server": False, "change_form_update_mode": False},
        "project": {"name": project_name, "icon": "台", "color": "#24527a"},
    }


def encode_settings(settings: dict) -> str:
    """The QR code's text: base64(zlib(UTF-8 JSON))."""
    return base64.b64encode(zlib.compress(json.dumps(settings, ensure_ascii=False).encode("utf-8"))).decode("ascii")


def decode_settings(payload: str) -> dict:
    return json.loads(zlib.decompress(base64.b64decode(payload)).decode("utf-8"))
