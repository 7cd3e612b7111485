"""Trigger events: built by the trigger, read back by the one resolver (fail closed)."""

from __future__ import annotations

import json

import pytest
from airflow.providers.common.compat.sdk import AirflowSensorTimeout

from airflow_heywatch.api.errors import HeyWatchRemoteFailure
from airflow_heywatch.exceptions import (
    HeyWatchDownloadFailed,
    HeyWatchEventError,
    HeyWatchWaitError,
    HeyWatchWaitTimeout,
)
from airflow_heywatch.triggers.events import (
    done_event,
    error_event,
    failed_event,
    resolve_event,
    timeout_event,
)

DOWNLOAD = {"id": 12, "status": "finished", "url": "ftp://u:pw@src/a.mp4", "video_id": 3}
VIDEO = {
    "id": 1,
    "job_id": 2,
    "video_id": 3,
    "format_id": 31,
    "format_name": "Flash video",
    "filename": "a.flv",
    "link": "http://x/1.bin",
    "size": 10,
}


def test_done_event_is_json_and_redacted():
    event = done_event(12, DOWNLOAD, [VIDEO])
    assert json.loads(json.dumps(event)) == event
    assert event["download"]["url"] == "ftp://u:***@src/a.mp4"
    assert resolve_event(event, download_id=12, wait_for_encoding=True) == {
        **event["download"],
        "encoded_videos": [VIDEO],
    }
    assert "encoded_videos" not in resolve_event(
        done_event(12, DOWNLOAD, None), download_id=12, wait_for_encoding=False
    )


def test_failed_event_of_a_download_raises_download_failed():
    event = failed_event(12, HeyWatchRemoteFailure("download", 12, 201, "source gave 404"))
    assert json.loads(json.dumps(event)) == event
    with pytest.raises(HeyWatchDownloadFailed) as info:
        resolve_event(event, download_id=12, wait_for_encoding=False)
    assert "error 201 (404 Not Found (source URL gave 404)): source gave 404" in str(info.value)


def test_failed_event_of_a_job_names_the_job():
    event = failed_event(12, HeyWatchRemoteFailure("job", 8, 105, "bad video settings"))
    with pytest.raises(HeyWatchDownloadFailed, match=r"job 8 failed: error 105 \(Wrong settings for video\)"):
        resolve_event(event, download_id=12, wait_for_encoding=True)


def test_error_event_is_a_retryable_wait_error():
    with pytest.raises(HeyWatchWaitError, match="connection refused"):
        resolve_event(error_event(12, "connection refused"), download_id=12, wait_for_encoding=False)


def test_timeout_event_raises_the_given_timeout_class():
    event = timeout_event(12, "not finished before the timeout")
    with pytest.raises(HeyWatchWaitTimeout):
        resolve_event(event, download_id=12, wait_for_encoding=False)
    with pytest.raises(AirflowSensorTimeout):
        resolve_event(event, download_id=12, wait_for_encoding=False, timeout_error=AirflowSensorTimeout)


@pytest.mark.parametrize(
    "event",
    [
        None,
        "done",
        [],
        {},
        {"status": "success", "download_id": 12},
        {"status": "done", "download_id": 13, "download": {**DOWNLOAD, "id": 13}},
        {"status": "done", "download_id": "12", "download": DOWNLOAD},
        {"status": "done", "download_id": 12},
        {"status": "done", "download_id": 12, "download": {"id": 99}},
        {"status": "done", "download_id": 12, "download": DOWNLOAD, "encoded_videos": None},
        {"status": "done", "download_id": 12, "download": DOWNLOAD, "encoded_videos": [{"id": 1}]},
        {"status": "failed", "download_id": 12},
        {"status": "failed", "download_id": 12, "resource": "video", "message": "x"},
        {"status": "timeout", "download_id": 12},
    ],
)
def test_malformed_events_fail_closed(event):
    with pytest.raises(HeyWatchEventError, match="Unexpected event"):
        resolve_event(event, download_id=12, wait_for_encoding=True)


def test_malformed_event_message_is_redacted():
    with pytest.raises(HeyWatchEventError) as info:
        resolve_event({"status": "?", "x": "ftp://a:topsecret@h/"}, download_id=1, wait_for_encoding=False)
    assert "topsecret" not in str(info.value)
