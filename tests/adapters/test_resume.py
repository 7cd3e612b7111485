"""The deferred path: operator and sensor resumed from each kind of trigger event."""

from __future__ import annotations

import datetime
import time

import pytest
from airflow.providers.common.compat.sdk import AirflowSensorTimeout, TaskDeferred

from airflow_heywatch.api.errors import HeyWatchRemoteFailure
from airflow_heywatch.exceptions import (
    HeyWatchDownloadFailed,
    HeyWatchEventError,
    HeyWatchWaitError,
    HeyWatchWaitTimeout,
)
from airflow_heywatch.operators.download import HeyWatchCreateDownloadOperator
from airflow_heywatch.sensors.download import HeyWatchDownloadSensor
from airflow_heywatch.triggers.download import HeyWatchDownloadTrigger
from airflow_heywatch.triggers.events import done_event, error_event, failed_event, timeout_event

DOWNLOAD = {"id": 12, "status": "finished", "video_id": 5, "url": "http://media/a.mp4"}
VIDEOS = [
    {
        "id": 100 + index,
        "job_id": 200 + index,
        "video_id": 5,
        "format_id": format_id,
        "format_name": name,
        "filename": f"a.{ext}",
        "link": f"http://x/{100 + index}.bin",
        "size": 50,
    }
    for index, (format_id, name, ext) in enumerate([(31, "Flash video", "flv"), (175, "MP4", "mp4")])
]


class _TaskInstance:
    """The part of a task instance the resume path uses: XCom push and pull."""

    def __init__(self, xcoms=None):
        self.xcoms = dict(xcoms or {})

    def xcom_push(self, key, value):
        self.xcoms[key] = value

    def xcom_pull(self, task_ids=None, key="return_value", map_indexes=None):
        return self.xcoms.get(key)


def _operator(**kwargs):
    return HeyWatchCreateDownloadOperator(
        task_id="submit",
        url="http://media/a.mp4",
        outputs=[{"format_id": 31}, {"format_id": 175}],
        wait_for_completion="encode",
        deferrable=True,
        **kwargs,
    )


def _sensor(**kwargs):
    return HeyWatchDownloadSensor(
        task_id="wait",
        download_id={"id": 12, "format_ids": [31, 175]},
        wait_for_encoding=True,
        deferrable=True,
        poke_interval=1,
        **kwargs,
    )


def test_operator_resumes_from_done():
    ti = _TaskInstance({"download_id": 12})
    value = _operator().execute_complete({"ti": ti}, event=done_event(12, DOWNLOAD, VIDEOS))
    assert value == {**DOWNLOAD, "encoded_videos": VIDEOS, "format_ids": [31, 175]}
    assert ti.xcoms["download_id"] == 12


def test_operator_resumes_from_done_with_deferral_kwargs():
    value = _operator().execute_complete(
        {"ti": _TaskInstance()}, event=done_event(12, DOWNLOAD, VIDEOS), download_id=12, format_ids=[31, 175]
    )
    assert value["format_ids"] == [31, 175]


@pytest.mark.parametrize(
    ("event", "error"),
    [
        (failed_event(12, HeyWatchRemoteFailure("download", 12, 201, "gone")), HeyWatchDownloadFailed),
        (failed_event(12, HeyWatchRemoteFailure("job", 7, 103, "no")), HeyWatchDownloadFailed),
        (error_event(12, "connection refused"), HeyWatchWaitError),
        (timeout_event(12, "too slow"), HeyWatchWaitTimeout),
        ({"status": "done", "download_id": 12}, HeyWatchEventError),
        ({"status": "weird", "download_id": 12}, HeyWatchEventError),
        (done_event(99, {**DOWNLOAD, "id": 99}, VIDEOS), HeyWatchEventError),
        (None, HeyWatchEventError),
    ],
)
def test_operator_resume_raises_for_every_other_event(event, error):
    with pytest.raises(error):
        _operator().execute_complete({"ti": _TaskInstance({"download_id": 12})}, event=event)


def test_sensor_resumes_from_done():
    value = _sensor().execute_complete({}, event=done_event(12, DOWNLOAD, VIDEOS))
    assert value == {**DOWNLOAD, "encoded_videos": VIDEOS}


@pytest.mark.parametrize(
    ("event", "error"),
    [
        (failed_event(12, HeyWatchRemoteFailure("download", 12, 201, "gone")), HeyWatchDownloadFailed),
        (error_event(12, "connection refused"), HeyWatchWaitError),
        (timeout_event(12, "too slow"), AirflowSensorTimeout),
        ({"status": "done", "download_id": 12, "download": DOWNLOAD}, HeyWatchEventError),
        ("done", HeyWatchEventError),
    ],
)
def test_sensor_resume_raises_for_every_other_event(event, error):
    with pytest.raises(error):
        _sensor().execute_complete({}, event=event)


def test_sensor_defers_with_a_json_trigger_and_its_timeout():
    sensor = _sensor(timeout=30)
    before = time.time()
    with pytest.raises(TaskDeferred) as info:
        sensor.execute({})
    deferred = info.value
    assert isinstance(deferred.trigger, HeyWatchDownloadTrigger)
    assert deferred.method_name == "execute_complete"
    assert deferred.timeout == datetime.timedelta(seconds=30)
    _classpath, kwargs = deferred.trigger.serialize()
    assert kwargs["download_id"] == 12 and kwargs["format_ids"] == [31, 175]
    assert kwargs["wait_for_encoding"] is True and kwargs["poll_interval"] == 1.0
    assert before + 30 <= kwargs["end_time"] <= time.time() + 30


def test_sensor_explicit_format_ids_win_over_the_xcom():
    sensor = HeyWatchDownloadSensor(
        task_id="w", download_id={"id": 3, "format_ids": [31]}, format_ids=["175"]
    )
    assert sensor._target() == (3, [175])
