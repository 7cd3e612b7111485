"""``heywatch-emulator`` from the command line: the documented end-to-end curl scenario, clean stop."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from emulator_helpers import Api

from airflow_heywatch.emulator.media import probe

pytestmark = pytest.mark.integration

LOGIN, PASSWORD = "cli-user", "cli-Secret-1"


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    data_dir = tmp_path / "data"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_heywatch.emulator",
            "--port",
            "0",
            "--login",
            LOGIN,
            "--password",
            PASSWORD,
            "--data-dir",
            str(data_dir),
            "--log-level",
            "WARNING",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("HeyWatch emulator listening on http://127.0.0.1:"), line
        yield process, line.rsplit(" ", 1)[1].strip()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_curl_multi_format_download_ends_in_two_ftp_folders(
    cli, media_server, sample_video, ftp_server, tmp_path
):
    process, base_url = cli
    url = media_server.add(sample_video, "demo.mp4")
    directives = f"{ftp_server.url('/videos/flv')},{ftp_server.url('/videos/mp4')}"
    form = {"url": url, "format_id": "31,175", "ftp_directive": directives}
    api = Api(base_url, (LOGIN, PASSWORD))
    if shutil.which("curl"):
        args = ["curl", "-s", "-u", f"{LOGIN}:{PASSWORD}"]
        for name, value in form.items():
            args += ["-d", f"{name}={value}"]
        output = subprocess.run(
            [*args, f"{base_url}/download.json"], capture_output=True, text=True, timeout=30
        )
        assert '"status":"pending"' in output.stdout, output
    else:
        assert api.post("/download.json", data=form).status_code == 201
    download_id = api.json("/download.json")[0]["id"]
    jobs = api.wait_download(download_id, jobs=2, timeout=90)["jobs"]
    assert [(j["format_id"], j["status"]) for j in jobs] == [(31, "finished"), (175, "finished")], jobs
    assert ftp_server.files() == ["videos/flv/demo_31.flv", "videos/mp4/demo_175.mp4"]
    for name, codec in (("videos/flv/demo_31.flv", "flv"), ("videos/mp4/demo_175.mp4", "h264")):
        found = probe(ftp_server.root / name)
        assert found.specs["video"]["codec"] == codec and found.duration > 1.5

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    stderr = process.stderr.read() if process.stderr else ""
    assert PASSWORD not in stderr and ftp_server.password not in stderr


def test_sigint_stops_cleanly(cli):
    process, base_url = cli
    assert Api(base_url, (LOGIN, PASSWORD)).get("/account.json").status_code == 200
    time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 0


def test_sigterm_right_after_the_startup_line_stops_cleanly(cli):
    process, _ = cli
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0


def test_password_from_the_environment_keeps_it_off_the_command_line(tmp_path: Path):
    env = {**os.environ, "HEYWATCH_EMULATOR_PASSWORD": "env-Secret-2"}
    command = [sys.executable, "-m", "airflow_heywatch.emulator", "--port", "0", "--login", LOGIN]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().rsplit(" ", 1)[1].strip()
        assert Api(base_url, (LOGIN, "env-Secret-2")).get("/account.json").status_code == 200
        assert Api(base_url, (LOGIN, "heywatch")).get("/account.json").status_code == 401
        assert "env-Secret-2" not in " ".join(process.args)
    finally:
        process.terminate()
        assert process.wait(timeout=20) == 0


def test_bad_options_are_refused():
    result = subprocess.run(
        [sys.executable, "-m", "airflow_heywatch.emulator", "--encode-workers", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "--encode-workers" in result.stderr


def test_the_emulator_does_not_import_airflow():
    code = (
        "import sys\n"
        "import airflow_heywatch.emulator.app, airflow_heywatch.emulator.cli\n"
        "import airflow_heywatch.emulator.server\n"
        "print([m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
