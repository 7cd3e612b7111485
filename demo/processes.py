"""Child processes of the demo: each in its own session, its output in a log file, always stopped."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

_URL = re.compile(r"http://127\.0\.0\.1:(\d+)")


class ManagedProcess:
    """A child process started in a new session, so that stopping it also stops its children.

    ``stop()`` sends SIGTERM to the child's process group, then SIGKILL after ``grace`` seconds.
    """

    def __init__(self, name: str, command: Sequence[str], env: Mapping[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            list(command),
            env=dict(env),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def poll(self) -> int | None:
        return self.process.poll()

    def wait(self, timeout: float | None = None) -> int:
        return self.process.wait(timeout=timeout)

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def wait_for_url(self, timeout: float = 30) -> str:
        """The first ``http://127.0.0.1:PORT`` the process prints (how a ``--port 0`` server says where)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = _URL.search(self.log_text())
            if match:
                return match.group(0)
            if self.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.poll()}:\n{self.log_tail()}")
            time.sleep(0.1)
        raise TimeoutError(
            f"{self.name} printed no listening address within {timeout:.0f} s:\n{self.log_tail()}"
        )

    def stop(self, grace: float = 10) -> None:
        """Stop the process and everything it started; idempotent."""
        try:
            if self.process.poll() is None:
                self._signal_group(signal.SIGTERM)
                try:
                    self.process.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    self._signal_group(signal.SIGKILL)
                    self.process.wait(timeout=grace)
            # Children left behind by a process that already exited share its process group.
            self._signal_group(signal.SIGKILL)
        finally:
            self._log.close()

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)
