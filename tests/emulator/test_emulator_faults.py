"""Fault injection under /_emulator/ and the state reset (opt-in misbehaviour for client tests)."""

from __future__ import annotations

import time

import pytest
import requests

from airflow_heywatch.api.decoding import decode_error_message

pytestmark = pytest.mark.integration


def test_no_faults_by_default(api):
    assert api.control("GET", "faults").json() == []
    assert all(api.get("/format/31.json").status_code == 200 for _ in range(3))


def test_status_fault_for_the_next_n_matching_requests(api):
    added = api.control(
        "POST", "faults", json={"kind": "status", "status": 503, "count": 2, "path": "/format"}
    )
    assert added.status_code == 201 and added.json()["remaining"] == 2
    assert api.get("/account.json").status_code == 200  # another path: untouched
    first = api.get("/format/31.json")
    assert first.status_code == 503 and "503" in decode_error_message(first.content, "json")
    xml = api.get("/format.xml")
    assert xml.status_code == 503 and decode_error_message(xml.content, "xml")
    assert api.get("/format/31.json").status_code == 200
    assert api.control("GET", "faults").json() == []


def test_429_with_retry_after_and_method_filter(api):
    api.control(
        "POST", "faults", data={"kind": "status", "status": "429", "retry_after": "2", "method": "GET"}
    )
    assert api.post("/download.json", data={}).status_code == 400  # POST does not match
    limited = api.get("/download.json")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert api.get("/download.json").status_code == 200


def test_delay(api):
    api.control("POST", "faults", json={"kind": "delay", "delay": 0.6, "path": "/account"})
    started = time.monotonic()
    assert api.get("/account.json").status_code == 200
    assert time.monotonic() - started >= 0.6
    with pytest.raises(requests.Timeout):
        api.control("POST", "faults", json={"kind": "delay", "delay": 2, "path": "/account"})
        api.get("/account.json", timeout=0.3)


def test_malformed_and_html_bodies(api):
    api.control("POST", "faults", json={"kind": "malformed", "path": "/download"})
    api.control("POST", "faults", json={"kind": "malformed", "path": "/download"})
    api.control("POST", "faults", json={"kind": "html", "path": "/download"})
    broken = api.get("/download.json")
    assert broken.status_code == 200 and broken.headers["Content-Type"].startswith("application/json")
    with pytest.raises(ValueError):
        broken.json()
    broken_xml = api.get("/download.xml")
    assert broken_xml.headers["Content-Type"].startswith("application/xml") and not broken_xml.text.endswith(
        ">"
    )
    html = api.get("/download.json")
    assert html.status_code == 502 and html.headers["Content-Type"].startswith("text/html")
    assert "<html>" in html.text


def test_dropped_connection(api):
    api.control("POST", "faults", json={"kind": "drop", "path": "/download", "method": "POST"})
    with pytest.raises(requests.ConnectionError):
        api.post("/download.json", data={"url": "http://127.0.0.1:9/a.mp4"})
    assert api.json("/download.json") == []  # the request was never processed


def test_accept_the_create_then_drop_the_response(api, emulator):
    emulator.config.transfer_rate = 1
    api.control("POST", "faults", json={"kind": "drop_after_create", "path": "/download", "method": "POST"})
    with pytest.raises(requests.ConnectionError):
        api.post("/download.json", data={"url": "http://127.0.0.1:9/a.mp4", "title": "lost answer"})
    (download,) = api.json("/download.json")
    assert download["title"] == "lost answer"


def test_faults_until_cleared_and_bad_specs(api):
    api.control("POST", "faults", json={"kind": "status", "status": 500, "count": "always", "path": "/job"})
    assert [api.get("/job.json").status_code for _ in range(3)] == [500, 500, 500]
    assert api.control("GET", "faults").json()[0]["hits"] == 3
    assert api.control("DELETE", "faults").status_code == 204
    assert api.get("/job.json").status_code == 200
    for spec in (
        {"kind": "explode"},
        {"kind": "status", "status": 999},
        {"kind": "delay"},
        {"kind": "status", "path": "x"},
    ):
        bad = api.control("POST", "faults", json=spec)
        assert bad.status_code == 400 and bad.json()["message"]


def test_reset_forgets_everything(api, emulator):
    emulator.config.transfer_rate = 1
    api.post("/download.json", data={"url": "http://127.0.0.1:9/a.mp4"})
    created = api.post(
        "/format.json", data={"name": "mine", "container": "mp4", "video_codec": "h264"}
    ).json()
    api.control("POST", "faults", json={"kind": "status", "path": "/video"})
    assert api.control("POST", "reset").status_code == 204
    assert api.json("/download.json") == []
    assert api.get(f"/format/{created['id']}.json").status_code == 404
    assert api.get("/video.json").status_code == 200  # fault gone
    assert emulator.config.transfer_rate is None
    assert api.control("GET", "nothing").status_code == 404
