"""Operator and sensor methods against the emulator, outside a DAG run: poke verdicts, on_kill."""

from __future__ import annotations

import time

import pytest
import requests
from airflow.providers.common.compat.sdk import PokeReturnValue

from airflow_heywatch.exceptions import HeyWatchDownloadFailed
from airflow_heywatch.operators.download import HeyWatchCreateDownloadOperator
from airflow_heywatch.sensors.download import HeyWatchDownloadSensor

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


class _TaskInstance:
    try_number = 1

    def __init__(self):
        self.xcoms = {}

    def xcom_push(self, key, value):
        self.xcoms[key] = value


@pytest.fixture
def emu(emulator, heywatch_connection, media_server, sample_video):
    heywatch_connection(emulator.base_url, emulator.login, emulator.password)
    emulator.source_url = media_server.add(sample_video, "clip.mp4")
    emulator.missing_url = media_server.url_for("missing.mp4")
    return emulator


def _pause(emulator, paused: bool) -> None:
    response = requests.post(f"{emulator.base_url}/_emulator/pipeline", json={"paused": paused}, timeout=10)
    assert response.ok, response.text


def _downloads(emulator) -> list[dict]:
    return requests.get(f"{emulator.base_url}/download.json", auth=emulator.auth, timeout=10).json()


def _submit(url: str, **kwargs) -> tuple[HeyWatchCreateDownloadOperator, dict, _TaskInstance]:
    op = HeyWatchCreateDownloadOperator(task_id="submit", url=url, **kwargs)
    ti = _TaskInstance()
    value = op.execute({"ti": ti})
    return op, value, ti


def _poke_until_not_waiting(sensor: HeyWatchDownloadSensor, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = sensor.poke({})
        if result is not False:
            return result
        time.sleep(0.3)
    raise AssertionError("the sensor kept waiting")


def test_submit_returns_at_once_and_pushes_id_and_link(emu):
    _pause(emu, True)
    _op, value, ti = _submit(emu.source_url, title="clip", outputs=[{"format_id": 31}])
    assert value["status"] == "pending" and value["format_ids"] == [31]
    assert ti.xcoms["download_id"] == value["id"]
    assert ti.xcoms["heywatch_download_url"] == f"{emu.base_url}/download/{value['id']}"


def test_poke_waits_then_returns_the_download(emu):
    _pause(emu, True)
    _op, value, _ti = _submit(emu.source_url)
    sensor = HeyWatchDownloadSensor(task_id="wait", download_id=value)
    assert sensor.poke({}) is False
    _pause(emu, False)
    result = _poke_until_not_waiting(sensor)
    assert isinstance(result, PokeReturnValue) and result.is_done
    assert result.xcom_value["id"] == value["id"] and result.xcom_value["status"] == "finished"
    assert "encoded_videos" not in result.xcom_value


def test_poke_fails_with_code_201_for_a_missing_source(emu):
    _op, value, _ti = _submit(emu.missing_url)
    sensor = HeyWatchDownloadSensor(task_id="wait", download_id=str(value["id"]))
    with pytest.raises(HeyWatchDownloadFailed) as info:
        _poke_until_not_waiting(sensor)
    assert info.value.error_code == 201
    assert "error 201 (404 Not Found (source URL gave 404))" in str(info.value)


def test_on_kill_deletes_a_pending_download(emu):
    _pause(emu, True)
    op, value, _ti = _submit(emu.source_url)
    op.on_kill()
    assert [d["id"] for d in _downloads(emu)] == []
    assert value["id"]


def test_on_kill_leaves_a_started_download_alone(emu):
    op, value, _ti = _submit(emu.source_url, wait_for_completion="transfer", poll_interval=0.3, timeout=60)
    assert value["status"] == "finished"
    op.on_kill()
    assert [d["id"] for d in _downloads(emu)] == [value["id"]]


def test_on_kill_before_submitting_does_nothing(emu):
    HeyWatchCreateDownloadOperator(task_id="submit", url=emu.source_url).on_kill()
    assert _downloads(emu) == []
