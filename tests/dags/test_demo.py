"""The demo (``make demo``): its process handling, its progress lines, and the whole program."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from demo.processes import ManagedProcess
from demo.progress import describe_progress, describe_task_events

REPO_ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


@pytest.mark.integration
def test_the_emulator_subprocess_says_where_it_listens_and_stops_completely(tmp_path: Path) -> None:
    emulator = ManagedProcess(
        "heywatch-emulator",
        [
            sys.executable,
            "-m",
            "airflow_heywatch.emulator",
            "--port",
            "0",
            "--login=demo-account",
            "--password=-starts-with-a-dash",
            f"--data-dir={tmp_path / 'data'}",
        ],
        os.environ,
        tmp_path / "emulator.log",
    )
    try:
        url = emulator.wait_for_url(timeout=60)
        answer = requests.get(f"{url}/account.json", auth=("demo-account", "-starts-with-a-dash"), timeout=10)
        assert answer.status_code == 200
    finally:
        emulator.stop()
    assert emulator.poll() is not None
    port = int(url.rsplit(":", 1)[1])
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_stopping_a_process_also_stops_what_it_started(tmp_path: Path) -> None:
    """Airflow forks task runners; the demo stops the whole process group it started."""
    pid_file = tmp_path / "grandchild.pid"
    code = (
        "import subprocess, sys, time;"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']);"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid));"
        "time.sleep(120)"
    )
    process = ManagedProcess("parent", [sys.executable, "-c", code], os.environ, tmp_path / "p.log")
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, process.log_tail()
        time.sleep(0.05)
    grandchild = int(pid_file.read_text())
    assert _alive(grandchild)
    process.stop(grace=5)
    assert process.poll() == -signal.SIGTERM
    deadline = time.monotonic() + 10
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)


def test_progress_lines_follow_transfer_encode_and_tasks() -> None:
    downloads = [{"id": 3928001, "status": "downloading", "progress": {"percent": 45}}]
    jobs = [{"id": 4888001, "status": "working", "progress": 60, "video_id": 7863001, "format_id": 31}]
    assert describe_progress(downloads, jobs) == [
        "download 3928001 transfer  downloading  45%",
        "job 4888001  encode    working      60%  (video 7863001 -> format 31)",
    ]
    log = "\n".join(
        [
            "2026-12-03T17:01:28Z [info] [DAG TEST] starting task_id=plan_downloads map_index=-1 [airflow]",
            "2026-12-03T17:01:52Z [info] [DAG TEST] end task task_id=plan_downloads map_index=-1 [airflow]",
            "2026-12-03T17:01:53Z [info] [DAG TEST] starting task_id=wait_for_encodes map_index=0 [airflow]",
            "2026-12-03T17:01:54Z [info] [DAG TEST] running trigger in line [airflow.sdk]",
            "2026-12-03T17:01:54Z [info] Task started [airflow.api_fastapi]",
            "2026-12-03T17:01:59Z [info] [DAG TEST] Trigger completed [airflow.sdk]",
        ]
    )
    assert describe_task_events(log) == [
        "task plan_downloads started",
        "task plan_downloads done",
        "task wait_for_encodes[0] started",
        "deferred: the trigger is waiting",
        "trigger fired",
    ]


@pytest.mark.integration
def test_make_demo_program_passes_and_leaves_nothing_behind() -> None:
    """``python -m demo`` as ``make demo`` runs it (on this Airflow version): exit 0, two playable
    outputs, its workspace removed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    result = subprocess.run(
        [sys.executable, "-m", "demo", "--seconds", "2"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-6000:]
    assert "Demo PASSED" in out
    assert "format 31 (Flash video) playable" in out and "format 175 (MP4 H.264/AAC) playable" in out
    assert "[FAIL]" not in out
    assert "Workspace kept" not in out  # removed after a passing run
