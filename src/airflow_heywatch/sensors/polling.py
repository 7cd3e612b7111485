"""One look at a download: the requests to make and what the answers mean.

Shared by the sensor (sync hook, one look per poke), the operator's blocking wait and the
trigger (async hook). The verdict always comes from :func:`airflow_heywatch.api.status.classify`;
this module only gathers what the classifier needs (the download, and its video's jobs when
waiting for encoding), orders the encoded videos by the requested formats and words the
progress line. Nothing here imports aiohttp.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_heywatch.api.errors import HeyWatchValidationError
from airflow_heywatch.api.redact import redact
from airflow_heywatch.api.status import DownloadStatus, Verdict, classify, parse_download_status

if TYPE_CHECKING:
    from airflow_heywatch.hooks.heywatch import HeyWatchHook
    from airflow_heywatch.hooks.heywatch_async import HeyWatchAsyncHook

__all__ = [
    "DownloadPoll",
    "apoll_download",
    "encoded_video_summary",
    "jobs_of_download",
    "normalise_format_ids",
    "order_jobs",
    "parse_download_ref",
    "poll_download",
    "progress_line",
]


@dataclass(frozen=True)
class DownloadPoll:
    """The outcome of one look: the verdict, the download (redacted) and, once done while
    waiting for encoding, the encoded videos in requested-format order."""

    verdict: Verdict
    download: dict[str, Any]
    encoded_videos: list[dict[str, Any]] | None = None

    @property
    def message(self) -> str:
        """The line to log while waiting (progress of the transfer, or of the jobs)."""
        status = parse_download_status(self.download.get("status"))
        if status in (DownloadStatus.PENDING, DownloadStatus.DOWNLOADING):
            return progress_line(self.download)
        return redact(self.verdict.reason)

    def xcom_value(self, *, wait_for_encoding: bool) -> dict[str, Any]:
        """The value a sensor returns: the download plus, when waiting for encoding, its videos."""
        value = dict(self.download)
        if wait_for_encoding:
            value["encoded_videos"] = list(self.encoded_videos or [])
        return value


# ----------------------------------------------------------------------------------------------
# Pure helpers
# ----------------------------------------------------------------------------------------------
def _format_key(value: Any) -> str:
    return str(value).strip()


def normalise_format_ids(values: Any, parameter: str = "format_ids") -> list[int | str]:
    """Requested format ids as a list: numeric ones as ``int``, dynamic ones (``"mp4"``) as ``str``."""
    if values is None:
        return []
    if isinstance(values, (str, int)) and not isinstance(values, bool):
        values = [item for item in str(values).split(",") if item.strip()]
    if not isinstance(values, Sequence) or isinstance(values, (bytes, Mapping)):
        raise HeyWatchValidationError(
            parameter, f"{parameter} must be a list of format ids such as [31, 175], not {values!r}"
        )
    result: list[int | str] = []
    for value in values:
        if isinstance(value, bool) or value is None:
            raise HeyWatchValidationError(
                parameter, f"{parameter} must hold format ids such as 31, not {value!r}"
            )
        text = _format_key(value)
        result.append(int(text) if text.isdigit() else text)
    return result


def parse_download_ref(value: Any, parameter: str = "download_id") -> tuple[int, list[int | str] | None]:
    """``(download id, format ids or None)`` from an int, a numeric string or the operator's XCom dict."""
    format_ids: list[int | str] | None = None
    if isinstance(value, Mapping):
        if "id" not in value:
            raise HeyWatchValidationError(
                parameter,
                f"{parameter} is a dict without an 'id' key; pass a download id, or the return "
                "value of HeyWatchCreateDownloadOperator (e.g. submit.output)",
            )
        if value.get("format_ids") is not None:
            format_ids = normalise_format_ids(value["format_ids"])
        value = value["id"]
    if isinstance(value, bool):
        raise HeyWatchValidationError(parameter, f"{parameter} must be a download id such as 12, not {value}")
    if isinstance(value, int):
        download_id = value
    elif isinstance(value, str) and value.strip().isdigit():
        download_id = int(value.strip())
    else:
        hint = (
            "; a rendered template gives the text of the dict: pass the XComArg (submit.output) "
            "or pull the 'id' key ({{ ti.xcom_pull('submit')['id'] }})"
            if isinstance(value, str) and value.strip().startswith("{")
            else ""
        )
        raise HeyWatchValidationError(
            parameter, f"{parameter} must be a positive download id such as 12, not {value!r}{hint}"
        )
    if download_id <= 0:
        raise HeyWatchValidationError(
            parameter, f"{parameter} must be a positive download id such as 12, not {download_id}"
        )
    return download_id, format_ids


def jobs_of_download(download: Mapping[str, Any], jobs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The jobs that encode the download's video (none before the transfer created the video)."""
    video_id = download.get("video_id")
    if not video_id:
        return []
    return [dict(job) for job in jobs if str(job.get("video_id")) == str(video_id)]


def _job_sort_key(job: Mapping[str, Any]) -> tuple[int, str]:
    ident = job.get("id")
    try:
        return (int(ident), "")  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return (0, str(ident))


def order_jobs(jobs: Sequence[Mapping[str, Any]], format_ids: Sequence[int | str]) -> list[dict[str, Any]]:
    """Jobs in the order of the requested formats (a format asked twice takes its jobs by id);
    jobs that match no requested format follow, by id."""
    remaining = sorted((dict(job) for job in jobs), key=_job_sort_key)
    ordered: list[dict[str, Any]] = []
    for format_id in format_ids:
        for index, job in enumerate(remaining):
            if _format_key(job.get("format_id")) == _format_key(format_id):
                ordered.append(remaining.pop(index))
                break
    return ordered + remaining


def encoded_video_summary(job: Mapping[str, Any], encoded_video: Mapping[str, Any]) -> dict[str, Any]:
    """``{id, job_id, video_id, format_id, format_name, filename, link, size}`` of one output."""
    specs = encoded_video.get("specs") or {}
    format_id = specs.get("format_id", job.get("format_id"))
    if format_id is None:
        format_id = job.get("format_id")
    text = _format_key(format_id) if format_id is not None else ""
    return redact(
        {
            "id": encoded_video.get("id", job.get("encoded_video_id")),
            "job_id": job.get("id"),
            "video_id": job.get("video_id"),
            "format_id": int(text) if text.isdigit() else (text or None),
            "format_name": specs.get("format_name"),
            "filename": encoded_video.get("filename"),
            "link": encoded_video.get("link"),
            "size": specs.get("size"),
        }
    )


def progress_line(download: Mapping[str, Any]) -> str:
    """``download 12 downloading: 45%, 950 of 2109 KB, 120 KB/s, 00:00:10 left``."""
    progress = download.get("progress") if isinstance(download.get("progress"), Mapping) else {}
    parts: list[str] = []
    percent = progress.get("percent")
    if percent is not None:
        parts.append(f"{percent}%")
    current, total = progress.get("current_length"), download.get("length")
    if total:
        parts.append(f"{current if current is not None else '?'} of {total} KB")
    elif current:
        parts.append(f"{current} KB")
    if progress.get("speed") is not None:
        parts.append(f"{progress['speed']} KB/s")
    if progress.get("time_left") not in (None, ""):
        parts.append(f"{progress['time_left']} left")
    line = f"download {download.get('id')} {download.get('status')}"
    return redact(f"{line}: {', '.join(parts)}" if parts else line)


def _expected_jobs(format_ids: Sequence[int | str] | None) -> int | None:
    return len(format_ids) if format_ids else None


def _needs_jobs(download: Mapping[str, Any], wait_for_encoding: bool) -> bool:
    return wait_for_encoding and parse_download_status(download.get("status")) is DownloadStatus.FINISHED


# ----------------------------------------------------------------------------------------------
# One look, sync and async (same steps, different I/O)
# ----------------------------------------------------------------------------------------------
def poll_download(
    hook: HeyWatchHook,
    download_id: int,
    *,
    wait_for_encoding: bool = False,
    format_ids: Sequence[int | str] | None = None,
) -> DownloadPoll:
    """Look at a download once with the sync hook."""
    download = hook.get_download(download_id)
    jobs = jobs_of_download(download, hook.list_jobs()) if _needs_jobs(download, wait_for_encoding) else None
    verdict = classify(
        download, jobs, wait_for_encoding=wait_for_encoding, expected_jobs=_expected_jobs(format_ids)
    )
    encoded = None
    if verdict.done and wait_for_encoding:
        encoded = [
            encoded_video_summary(job, hook.get_encoded_video(job["encoded_video_id"]))
            for job in order_jobs(jobs or [], format_ids or [])
        ]
    return DownloadPoll(verdict, redact(download), encoded)


async def apoll_download(
    hook: HeyWatchAsyncHook,
    download_id: int,
    *,
    wait_for_encoding: bool = False,
    format_ids: Sequence[int | str] | None = None,
) -> DownloadPoll:
    """Look at a download once with the async hook."""
    download = await hook.get_download(download_id)
    jobs = (
        jobs_of_download(download, await hook.list_jobs())
        if _needs_jobs(download, wait_for_encoding)
        else None
    )
    verdict = classify(
        download, jobs, wait_for_encoding=wait_for_encoding, expected_jobs=_expected_jobs(format_ids)
    )
    encoded = None
    if verdict.done and wait_for_encoding:
        encoded = [
            encoded_video_summary(job, await hook.get_encoded_video(job["encoded_video_id"]))
            for job in order_jobs(jobs or [], format_ids or [])
        ]
    return DownloadPoll(verdict, redact(download), encoded)
