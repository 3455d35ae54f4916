"""The ceiling for bench/ingest.py: a bare Flask app doing only the HTTP part of submission intake.

HEAD /key/<token>/submission answers 204; POST reads the multipart body (the `xml_submission_file` part)
and answers 201 with a short OpenRosa message. No authentication, no XML parsing, no database.
Served by gunicorn exactly like the real server: `gunicorn ... --pythonpath bench bare_app:app`.
"""

from __future__ import annotations

from flask import Flask, Response, request

app = Flask(__name__)

RESPONSE = ('<OpenRosaResponse xmlns="http://openrosa.org/http/response">'
            '<message nature="submit_success">Submission received.</message></OpenRosaResponse>').encode()


@app.route("/key/<token>/submission", methods=["HEAD", "POST"])
def submission(token: str) -> Response:
    if request.method == "HEAD":
        return Response(status=204, headers={"X-OpenRosa-Version": "1.0"})
    xml = request.files["xml_submission_file"].read()
    if not xml:
        return Response(status=400)
    return Response(RESPONSE, status=201, content_type="text/xml; charset=utf-8",
                    headers={"X-OpenRosa-Version": "1.0"})
