"""Download and job statuses, and the one classifier that turns them into a verdict.

The sensor, the trigger and the operator all call :func:`classify`; none of them interprets a
status on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar, Literal

from airflow_heywatch.api.errors import HeyWatchRemoteFailure

__all__ = [
    "DownloadStatus",
    "JobStatus",
    "Verdict",
    "classify",
    "parse_download_status",
    "parse_job_status",
]


class DownloadStatus(str, Enum):
    """Status of a download (HEYWATCH_API.md §2.5)."""

    PENDING = "pending"
    DOWNLOADING = "downloading"
    FINISHED = "finished"
    ERROR = "error"

    TERMINAL: ClassVar[frozenset[DownloadStatus]]
    SUCCESS: ClassVar[frozenset[DownloadStatus]]
    FAILURE: ClassVar[frozenset[DownloadStatus]]

    def __str__(self) -> str:
        return self.value

    @property
    def is_terminal(self) -> bool:
        """True when the download will not change any more (``finished`` or ``error``)."""
        return self in type(self).TERMINAL


class JobStatus(str, Enum):
    """Status of an encoding job (HEYWATCH_API.md §5.5)."""

    PENDING = "pending"
    WORKING = "working"
    FINISHED = "finished"
    ERROR = "error"

    TERMINAL: ClassVar[frozenset[JobStatus]]
    SUCCESS: ClassVar[frozenset[JobStatus]]
    FAILURE: ClassVar[frozenset[JobStatus]]

    def __str__(self) -> str:
        return self.value

    @property
    def is_terminal(self) -> bool:
        """True when the job will not change any more (``finished`` or ``error``)."""
        return self in type(self).TERMINAL


DownloadStatus.SUCCESS = frozenset({DownloadStatus.FINISHED})
DownloadStatus.FAILURE = frozenset({DownloadStatus.ERROR})
DownloadStatus.TERMINAL = DownloadStatus.SUCCESS | DownloadStatus.FAILURE
JobStatus.SUCCESS = frozenset({JobStatus.FINISHED})
JobStatus.FAILURE = frozenset({JobStatus.ERROR})
JobStatus.TERMINAL = JobStatus.SUCCESS | JobStatus.FAILURE


def _raw(value: Any) -> str:
    return "" if value is None else str(value)


def parse_download_status(value: Any) -> DownloadStatus | str:
    """The :class:`DownloadStatus` for ``value``; an unknown value is returned as its raw string."""
    if isinstance(value, DownloadStatus):
        return value
    try:
        return DownloadStatus(_raw(value).strip().lower())
    except ValueError:
        return _raw(value)


def parse_job_status(value: Any) -> JobStatus | str:
    """The :class:`JobStatus` for ``value``; an unknown value is returned as its raw string."""
    if isinstance(value, JobStatus):
        return value
    try:
        return JobStatus(_raw(value).strip().lower())
    except ValueError:
        return _raw(value)


@dataclass(frozen=True)
class Verdict:
    """What to do about a download (and its jobs): stop with success, fail, or keep waiting."""

    state: Literal["done", "failed", "waiting"]
    reason: str
    failure: HeyWatchRemoteFailure | None = None

    @property
    def done(self) -> bool:
        return self.state == "done"

    @property
    def failed(self) -> bool:
        return self.state == "failed"

    @property
    def waiting(self) -> bool:
        return self.state == "waiting"


def _percent(progress: Any) -> str:
    """`` (45%)`` from a download progress dict or a job progress number; ``""`` if unknown."""
    value = progress.get("percent") if isinstance(progress, Mapping) else progress
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    return f" ({value:g}%)"


def _unknown(kind: str, ident: Any, raw: str) -> str:
    return f"{kind} {ident} has an unknown status {raw!r}; waiting"


def classify(
    download: Mapping[str, Any],
    jobs: Sequence[Mapping[str, Any]] | None = None,
    *,
    wait_for_encoding: bool = False,
    expected_jobs: int | None = None,
) -> Verdict:
    """Decide whether a download (and, optionally, its encoding jobs) is done, failed or pending.

    - download ``error`` → ``failed`` (with a :class:`HeyWatchRemoteFailure`);
    - download not ``finished`` → ``waiting``;
    - download ``finished`` and not ``wait_for_encoding`` → ``done``;
    - with ``wait_for_encoding``: any job ``error`` → ``failed``; fewer jobs than
      ``expected_jobs`` (at least one job when ``expected_jobs`` is None), or any job not
      ``finished`` → ``waiting``; every job ``finished`` → ``done``.

    Unknown statuses mean ``waiting``; the raw status is quoted in ``reason``.
    """
    download_id = download.get("id")
    status = parse_download_status(download.get("status"))
    if status is DownloadStatus.ERROR:
        failure = HeyWatchRemoteFailure(
            "download", download_id, download.get("error_code"), download.get("error_msg")
        )
        return Verdict("failed", str(failure), failure)
    if not isinstance(status, DownloadStatus):
        return Verdict("waiting", _unknown("download", download_id, status))
    if status is not DownloadStatus.FINISHED:
        return Verdict(
            "waiting", f"download {download_id} is {status.value}{_percent(download.get('progress'))}"
        )
    if not wait_for_encoding:
        return Verdict("done", f"download {download_id} finished (video {download.get('video_id')})")

    jobs = list(jobs or [])
    parsed = [(job, parse_job_status(job.get("status"))) for job in jobs]
    for job, job_status in parsed:
        if job_status is JobStatus.ERROR:
            failure = HeyWatchRemoteFailure("job", job.get("id"), job.get("error_code"), job.get("error_msg"))
            return Verdict("failed", str(failure), failure)
    wanted = 1 if expected_jobs is None else expected_jobs
    if len(jobs) < wanted:
        return Verdict(
            "waiting",
            f"download {download_id} finished; {len(jobs)} of {wanted} encoding job(s) created so far",
        )
    for job, job_status in parsed:
        if not isinstance(job_status, JobStatus):
            return Verdict("waiting", _unknown("job", job.get("id"), job_status))
        if job_status is not JobStatus.FINISHED:
            return Verdict(
                "waiting", f"job {job.get('id')} is {job_status.value}{_percent(job.get('progress'))}"
            )
    ids = ", ".join(str(job.get("id")) for job in jobs)
    return Verdict("done", f"download {download_id} finished and its job(s) {ids} finished")
