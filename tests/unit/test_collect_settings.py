"""The configuration QR code's text, as ODK Collect decodes it."""

import base64
import json
import zlib

from sync.collect_settings import collector_settings, decode_settings, encode_settings


def test_payload_is_base64_of_zlib_of_the_settings_json():
    settings = collector_settings("https://tz.example.org/key/abc", project_name="台账 青山镇/东村/第一组")
    payload = encode_settings(settings)
    assert "\n" not in payload
    raw = base64.b64decode(payload, validate=True)
    assert raw[:1] == b"\x78"  # a zlib header, not raw deflate
    assert json.loads(zlib.decompress(raw)) == settings == decode_settings(payload)
    assert settings["general"] == {"server_url": "https://tz.example.org/key/abc", "form_update_mode": "match_exactly",
                                   "autosend": "wifi_and_cellular", "app_language": "zh"}
    assert settings["admin"]["change_server"] is False
    assert settings["project"]["name"] == "台账 青山镇/东村/第一组"
