"""The package as a user installs it: the wheel built from the sources, installed with its dependencies into a fresh
virtual environment, runs the demo (forms, lists, templates, translations and migrations are package data)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.collect import CollectClient, xml_text
from tests.conftest import ROOT, free_port, wait_for_port

SOURCES = ("pyproject.toml", "README.md", "server", "sync", "reports", "xlsforms")


def _run(*args, cwd: Path, env: dict) -> str:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_wheel_installs_and_serves_the_demo(tmp_path):
    # The sources as a clean checkout has them (no build leftovers in the working tree).
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
        copy(ROOT / name, source / name, **({"ignore": shutil.ignore_patterns("__pycache__", "*.pyc")}
                                            if (ROOT / name).is_dir() else {}))
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("TAIZHANG_", "PYTHON", "VIRTUAL_ENV"))}
    env["PYTHONNOUSERSITE"] = "1"
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(source), "-w", str(tmp_path / "dist"),
         cwd=tmp_path, env=env)
    (wheel,) = (tmp_path / "dist").glob("taizhang-*.whl")

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", str(venv), cwd=tmp_path, env=env)
    _run(str(venv / "bin" / "pip"), "install", "--quiet", str(wheel), cwd=tmp_path, env=env)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    imported = _run(str(venv / "bin" / "python"), "-c", "import server, sync, xlsforms; print(server.__file__)",
                    cwd=elsewhere, env=env)
    assert Path(imported.strip()).is_relative_to(venv / "lib"), imported

    port = free_port()
    process = subprocess.Popen([str(venv / "bin" / "taizhang"), "serve", "--demo", "--port", str(port)], env=env,
                               cwd=elsewhere, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    output = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and (line := process.stdout.readline()):
            output.append(line)
            if line.startswith("Serving on"):
                break
        text = "".join(output)
        assert f"Serving on http://127.0.0.1:{port}/" in text, text
        assert "household_visit version" in text and "followup version" in text
        token_url = re.search(r"token URL: (\S+)\n", text).group(1)
        wait_for_port(port)  # the workers booting
        phone = CollectClient(token_url)
        listed = phone.form_list()
        assert listed.status_code == 200
        assert sorted(xml_text(listed, "formID")) == ["followup", "household_visit"]
        # The phone lists built from the demo register, and the staff sign-in page (templates, translations).
        manifest = phone.get(next(url for url in xml_text(listed, "manifestUrl") if "household_visit" in url))
        people = phone.get(next(url for url in xml_text(manifest, "downloadUrl") if url.endswith("/people.csv")))
        assert people.status_code == 200 and people.text.startswith("name,")
        login = requests.get(f"http://127.0.0.1:{port}/login", timeout=30)
        assert login.status_code == 200 and "登录" in login.text
        # The data lives in the environment's own folder (not in the package, not in the working directory).
        assert (venv / "var" / "taizhang-instance" / "taizhang.sqlite3").is_file()
        assert list(elsewhere.iterdir()) == []
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        process.stdout.close()
