"""HeyWatchDownloadTrigger: JSON round-trip, and real runs against the emulator."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import requests

from airflow_heywatch.triggers.download import HeyWatchDownloadTrigger
from airflow_heywatch.triggers.events import resolve_event
from fixtures.servers import EMULATOR_PASSWORD

pytestmark = pytest.mark.timeout(120)


def test_serialised_kwargs_are_json_and_round_trip_exactly():
    trigger = HeyWatchDownloadTrigger(
        download_id=12,
        heywatch_conn_id="hw",
        poll_interval=2,
        wait_for_encoding=True,
        format_ids=("31", 175, "mp4"),
        end_time=1_700_000_000.5,
        max_consecutive_errors=4,
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_heywatch.triggers.download.HeyWatchDownloadTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert kwargs == {
        "download_id": 12,
        "heywatch_conn_id": "hw",
        "poll_interval": 2.0,
        "wait_for_encoding": True,
        "format_ids": [31, 175, "mp4"],
        "end_time": 1_700_000_000.5,
        "max_consecutive_errors": 4,
    }
    rebuilt = HeyWatchDownloadTrigger(**json.loads(json.dumps(kwargs)))
    assert rebuilt.serialize() == (classpath, kwargs)


def test_airflow_serialisation_round_trips():
    from airflow.serialization.serialized_objects import BaseSerialization

    trigger = HeyWatchDownloadTrigger(download_id=3, format_ids=[31], end_time=None)
    _classpath, kwargs = trigger.serialize()
    assert BaseSerialization.deserialize(BaseSerialization.serialize(kwargs)) == kwargs


@pytest.mark.parametrize(
    "kwargs",
    [
        {"download_id": 0},
        {"download_id": "12"},
        {"download_id": True},
        {"download_id": 1, "poll_interval": 0},
    ],
)
def test_bad_kwargs_are_refused(kwargs):
    with pytest.raises(ValueError):
        HeyWatchDownloadTrigger(**kwargs)


# ----------------------------------------------------------------------------------------------
# Runs against the emulator
# ----------------------------------------------------------------------------------------------
@pytest.fixture
def emu(emulator, heywatch_connection, media_server, sample_video):
    heywatch_connection(emulator.base_url, emulator.login, emulator.password)
    emulator.source_url = media_server.add(sample_video, "clip.mp4")
    emulator.missing_url = media_server.url_for("missing.mp4")
    return emulator


def _create(emulator, url: str, **form) -> int:
    response = requests.post(
        f"{emulator.base_url}/download.json", data={"url": url, **form}, auth=emulator.auth, timeout=10
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _fault(emulator, **spec) -> None:
    response = requests.post(f"{emulator.base_url}/_emulator/faults", json=spec, timeout=10)
    assert response.status_code == 201, response.text


async def _events(trigger: HeyWatchDownloadTrigger) -> list[dict]:
    return [event.payload async for event in trigger.run()]


async def test_finished_event_with_encoded_videos_in_requested_order(emu, ftp_server):
    download_id = _create(
        emu,
        emu.source_url,
        automatic_encode="true",
        format_id="175,31",
        ftp_directive=f"{ftp_server.url('/mp4/')},{ftp_server.url('/flv/')}",
    )
    trigger = HeyWatchDownloadTrigger(
        download_id, poll_interval=0.3, wait_for_encoding=True, format_ids=[175, 31]
    )
    events = await _events(trigger)
    assert len(events) == 1
    event = events[0]
    assert event["status"] == "done"
    assert json.loads(json.dumps(event)) == event
    assert [video["format_id"] for video in event["encoded_videos"]] == [175, 31]
    value = resolve_event(event, download_id=download_id, wait_for_encoding=True)
    assert value["status"] == "finished"
    assert EMULATOR_PASSWORD not in json.dumps(event)


async def test_transfer_only_event_has_no_encoded_videos(emu):
    download_id = _create(emu, emu.source_url)
    [event] = await _events(HeyWatchDownloadTrigger(download_id, poll_interval=0.3))
    assert event["status"] == "done" and event["encoded_videos"] is None
    assert event["download"]["status"] == "finished"


async def test_failed_event_carries_code_and_message(emu):
    download_id = _create(emu, emu.missing_url)
    [event] = await _events(HeyWatchDownloadTrigger(download_id, poll_interval=0.3))
    assert event["status"] == "failed"
    assert event["resource"] == "download" and event["error_code"] == 201
    assert event["error_msg"]
    assert "404 Not Found (source URL gave 404)" in event["message"]


def _pause_pipeline(emulator) -> None:
    response = requests.post(f"{emulator.base_url}/_emulator/pipeline", json={"paused": True}, timeout=10)
    assert response.ok, response.text


async def test_timeout_event_after_end_time(emu):
    _pause_pipeline(emu)
    download_id = _create(emu, emu.source_url)
    started = time.monotonic()
    [event] = await _events(
        HeyWatchDownloadTrigger(download_id, poll_interval=0.3, end_time=time.time() + 1.0)
    )
    assert event["status"] == "timeout"
    assert 0.9 <= time.monotonic() - started < 10


async def test_transient_failures_are_tolerated_with_a_sleep_after_each(emu):
    download_id = _create(emu, emu.source_url)
    _fault(emu, kind="malformed", method="GET", path="/download/", count=2)
    started = time.monotonic()
    [event] = await _events(HeyWatchDownloadTrigger(download_id, poll_interval=0.4, max_consecutive_errors=2))
    assert event["status"] == "done"
    assert time.monotonic() - started >= 0.8  # slept after each of the two failed looks


async def test_gives_up_after_too_many_consecutive_failures(emu):
    download_id = _create(emu, emu.source_url)
    _fault(emu, kind="malformed", method="GET", path="/download/", count="always")
    [event] = await _events(HeyWatchDownloadTrigger(download_id, poll_interval=0.2, max_consecutive_errors=2))
    assert event["status"] == "failed" and event["resource"] is None
    assert "giving up after 3 failed attempts" in event["message"]


async def test_unknown_download_fails_at_once(emu):
    [event] = await _events(HeyWatchDownloadTrigger(987654, poll_interval=0.2))
    assert event["status"] == "failed" and event["resource"] is None
    assert "987654" in event["message"]


async def test_wrong_password_fails_with_a_redacted_message(emulator, heywatch_connection, media_server):
    heywatch_connection(emulator.base_url, emulator.login, "Wrong-Password-123")
    [event] = await _events(HeyWatchDownloadTrigger(1, poll_interval=0.2))
    assert event["status"] == "failed" and "401" in event["message"]
    assert "Wrong-Password-123" not in json.dumps(event)


async def test_the_trigger_never_blocks_the_event_loop(emu):
    """A ticker on the same loop keeps ticking every 50 ms while the trigger polls."""
    download_id = _create(emu, emu.source_url)
    gaps: list[float] = []

    async def ticker(stop: asyncio.Event) -> None:
        last = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.05)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    stop = asyncio.Event()
    task = asyncio.create_task(ticker(stop))
    [event] = await _events(HeyWatchDownloadTrigger(download_id, poll_interval=0.2))
    stop.set()
    await task
    assert event["status"] == "done"
    assert gaps and max(gaps) < 0.5
