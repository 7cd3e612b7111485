"""The events of :class:`~airflow_heywatch.triggers.download.HeyWatchDownloadTrigger`, built and read.

A trigger yields exactly one event, a JSON dict with a ``status``:

- ``{"status": "done", "download_id", "download", "encoded_videos"}`` — ``encoded_videos`` is
  a list when the trigger waited for encoding, otherwise ``None``;
- ``{"status": "failed", "download_id", "resource", "resource_id", "error_code", "error_msg",
  "message"}`` — ``resource`` is ``"download"`` or ``"job"`` for a remote failure, ``None``
  when the server could not be asked (transport or API error);
- ``{"status": "timeout", "download_id", "message"}``.

:func:`resolve_event` is the one reader, used by the operator and the sensor when they resume.
It checks the shape strictly and fails closed: anything else raises
:class:`~airflow_heywatch.exceptions.HeyWatchEventError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_heywatch.api.errors import HeyWatchRemoteFailure
from airflow_heywatch.api.redact import redact, redact_text
from airflow_heywatch.exceptions import (
    HeyWatchDownloadFailed,
    HeyWatchEventError,
    HeyWatchWaitError,
    HeyWatchWaitTimeout,
)

__all__ = ["done_event", "error_event", "failed_event", "resolve_event", "timeout_event"]

_ENCODED_VIDEO_KEYS = frozenset(
    {"id", "job_id", "video_id", "format_id", "format_name", "filename", "link", "size"}
)


def done_event(
    download_id: int, download: Mapping[str, Any], encoded_videos: list[dict[str, Any]] | None
) -> dict[str, Any]:
    return {
        "status": "done",
        "download_id": download_id,
        "download": redact(dict(download)),
        "encoded_videos": redact(encoded_videos) if encoded_videos is not None else None,
    }


def failed_event(download_id: int, failure: HeyWatchRemoteFailure) -> dict[str, Any]:
    return {
        "status": "failed",
        "download_id": download_id,
        "resource": failure.resource,
        "resource_id": failure.resource_id,
        "error_code": failure.error_code,
        "error_msg": redact_text(failure.error_msg) if failure.error_msg else failure.error_msg,
        "message": redact_text(str(failure)),
    }


def error_event(download_id: int, message: str) -> dict[str, Any]:
    """A ``failed`` event for a download whose state could not be read (no remote error code)."""
    return {
        "status": "failed",
        "download_id": download_id,
        "resource": None,
        "resource_id": None,
        "error_code": None,
        "error_msg": None,
        "message": redact_text(message),
    }


def timeout_event(download_id: int, message: str) -> dict[str, Any]:
    return {"status": "timeout", "download_id": download_id, "message": redact_text(message)}


def _fail(reason: str, event: Any) -> HeyWatchEventError:
    shown = redact_text(repr(event))
    if len(shown) > 500:
        shown = shown[:500] + "…"
    return HeyWatchEventError(f"Unexpected event from HeyWatchDownloadTrigger ({reason}); failing: {shown}")


def resolve_event(
    event: Any,
    *,
    download_id: int,
    wait_for_encoding: bool,
    timeout_error: type[Exception] = HeyWatchWaitTimeout,
) -> dict[str, Any]:
    """The XCom value for a ``done`` event; raises for every other event.

    - ``done`` → the download (redacted), plus ``encoded_videos`` when ``wait_for_encoding``;
    - ``failed`` of a download or job → :class:`HeyWatchDownloadFailed` (code, meaning, message);
    - ``failed`` without a remote resource → :class:`HeyWatchWaitError`;
    - ``timeout`` → ``timeout_error(message)``;
    - anything else (not a dict, unknown status, another download, missing fields) →
      :class:`HeyWatchEventError`.
    """
    if not isinstance(event, Mapping):
        raise _fail("not a dict", event)
    status = event.get("status")
    if status not in ("done", "failed", "timeout"):
        raise _fail(f"unknown status {status!r}", event)
    event_id = event.get("download_id")
    if isinstance(event_id, bool) or not isinstance(event_id, int) or event_id != download_id:
        raise _fail(f"it is about download {event_id!r}, not {download_id}", event)

    if status == "timeout":
        message = event.get("message")
        if not isinstance(message, str):
            raise _fail("timeout without a message", event)
        raise timeout_error(redact_text(message))

    if status == "failed":
        resource = event.get("resource")
        message = event.get("message")
        if not isinstance(message, str):
            raise _fail("failure without a message", event)
        if resource is None:
            raise HeyWatchWaitError(message)
        if resource not in ("download", "job"):
            raise _fail(f"unknown failed resource {resource!r}", event)
        error_msg = event.get("error_msg")
        if error_msg is not None and not isinstance(error_msg, str):
            raise _fail("error_msg is not a string", event)
        raise HeyWatchDownloadFailed(
            download_id,
            resource=resource,
            resource_id=event.get("resource_id"),
            error_code=event.get("error_code"),
            error_msg=error_msg,
        )

    download = event.get("download")
    if not isinstance(download, Mapping) or download.get("id") != download_id:
        raise _fail("done without the download", event)
    value = redact(dict(download))
    if wait_for_encoding:
        encoded = event.get("encoded_videos")
        if not isinstance(encoded, list) or not all(
            isinstance(item, Mapping) and set(item) >= _ENCODED_VIDEO_KEYS for item in encoded
        ):
            raise _fail("done without the encoded videos", event)
        value["encoded_videos"] = redact([dict(item) for item in encoded])
    return value
