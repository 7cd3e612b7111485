"""Progress lines while the DAG runs: the transfer and encode percentages, read from the HeyWatch API."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_TASK_EVENT = re.compile(r"\[DAG TEST\] (starting|end task) task_id=(\S+) map_index=(-?\d+)")
_TRIGGER_EVENT = re.compile(r"\[DAG TEST\] (running trigger in line|Trigger completed)")


def describe_task_events(text: str) -> list[str]:
    """The task starts, ends and inline trigger runs that ``airflow dags test`` logs, in order."""
    lines = []
    for line in text.splitlines():
        if match := _TASK_EVENT.search(line):
            verb, task_id, map_index = match.groups()
            name = task_id if map_index == "-1" else f"{task_id}[{map_index}]"
            lines.append(f"task {name} {'started' if verb == 'starting' else 'done'}")
        elif match := _TRIGGER_EVENT.search(line):
            lines.append(
                "deferred: the trigger is waiting"
                if match.group(1).startswith("running")
                else "trigger fired"
            )
    return lines


def describe_progress(downloads: list[dict[str, Any]], jobs: list[dict[str, Any]]) -> list[str]:
    """One line per download and per job: ``download 1  transfer  downloading  40%``."""
    lines = []
    for d in sorted(downloads, key=lambda d: d["id"]):
        progress = d.get("progress") or {}
        percent = progress.get("percent", 0) if isinstance(progress, dict) else 0
        lines.append(f"download {d['id']:<3} transfer  {d.get('status', '?'):<11} {percent:>3}%")
    for j in sorted(jobs, key=lambda j: j["id"]):
        lines.append(
            f"job {j['id']:<8} encode    {j.get('status', '?'):<11} {j.get('progress') or 0:>3}%"
            f"  (video {j.get('video_id')} -> format {j.get('format_id')})"
        )
    return lines


class ProgressPrinter:
    """Polls ``list_downloads``/``list_jobs`` every ``interval`` seconds and prints each changed line,
    and, with ``log_path``, the task starts and ends that ``airflow dags test`` logs there."""

    def __init__(
        self,
        reader: Any,
        *,
        interval: float = 0.5,
        emit: Callable[[str], None] = print,
        clock: Callable[[], float] = time.monotonic,
        started: float | None = None,
        log_path: Path | None = None,
    ) -> None:
        self._reader = reader
        self._log_path = log_path
        self._log_lines_seen = 0
        self._interval = interval
        self._emit = emit
        self._clock = clock
        self._start = clock() if started is None else started
        self._stop = threading.Event()
        self._seen: dict[str, str] = {}
        self._thread = threading.Thread(target=self._run, name="demo-progress", daemon=True)

    def start(self) -> ProgressPrinter:
        self._thread.start()
        return self

    def _follow_log(self) -> None:
        if self._log_path is None or not self._log_path.exists():
            return
        events = describe_task_events(self._log_path.read_text(encoding="utf-8", errors="replace"))
        for line in events[self._log_lines_seen :]:
            self._emit(f"  [{self._clock() - self._start:5.1f} s] {line}")
        self._log_lines_seen = len(events)

    def poll_once(self) -> None:
        self._follow_log()
        lines = describe_progress(self._reader.list_downloads(), self._reader.list_jobs())
        for line in lines:
            key = " ".join(line.split()[:2])
            if self._seen.get(key) != line:
                self._seen[key] = line
                self._emit(f"  [{self._clock() - self._start:5.1f} s] {line}")

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception as exc:  # progress is informative only; the checks decide
                self._emit(f"  (progress unavailable: {exc})")
            self._stop.wait(self._interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        with contextlib.suppress(Exception):  # informative only; the checks decide
            self.poll_once()  # the final state
