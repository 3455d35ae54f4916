"""The ceiling for bench/ingest.py: a bare Flask app doing only the HTTP part of submission intake.

HEAD /key/<token>/submission answers 204; POST reads the multipart body (the `xml_submission_file` part)
and answers 201 with a short OpenRosa message. No authentication, no XML parsing, no database.
Served by gunicorn exactly like the real server: `gunicorn ... bench.bare_app:app` from the checkout (any worker class
bench/ingest.py --servers names, `taizhang serve`'s server.wsgi.BufferedWorker included).
"""

from __future__ import annotations

from flask import Flask, Response, request

app = Flask(__name__)
# What `gunicorn -k server.wsgi.BufferedWorker` (the worker class `taizhang serve` runs; bench/ingest.py --servers
# buffered:2x4) reads from the app's config: server/config.py's defaults.
app.config.update(TAIZHANG_CLIENT_TIMEOUT=30, TAIZHANG_MIN_UPLOAD_RATE=500, TAIZHANG_CONNECTION_LIMIT=500,
                  TAIZHANG_PROXY_COUNT=0, MAX_CONTENT_LENGTH=50 * 1024 * 1024)

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
