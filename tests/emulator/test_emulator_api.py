"""The emulator's HTTP API over real HTTP: auth, representations, every resource, status codes."""

from __future__ import annotations

import base64
import functools
import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from emulator_helpers import Api, wait_until

from airflow_heywatch.api.decoding import decode_body, decode_error_message
from airflow_heywatch.emulator.media import probe
from airflow_heywatch.emulator.server import EmulatorServer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory, sample_video) -> Iterator[dict[str, Any]]:
    """A separate emulator holding one finished download, its video, a job and its encoded video."""
    root = tmp_path_factory.mktemp("populated-media")
    (root / "clip.mp4").write_bytes(sample_video.read_bytes())
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    media = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=media.serve_forever, daemon=True).start()
    with EmulatorServer(login="reader", password="read-secret") as server:
        api = Api(server.base_url, server.auth)
        created = api.post(
            "/download.json",
            data={"url": f"http://127.0.0.1:{media.server_address[1]}/clip.mp4", "format_id": "2020"},
        )
        assert created.status_code == 201, created.text
        state = api.wait_download(created.json()["id"], jobs=1)
        assert state["jobs"][0]["status"] == "finished", state
        yield {
            "api": api,
            "download": state["download"],
            "job": state["jobs"][0],
            "ids": {
                "download": state["download"]["id"],
                "video": state["download"]["video_id"],
                "job": state["jobs"][0]["id"],
                "encoded_video": state["jobs"][0]["encoded_video_id"],
                "format": 31,
            },
        }
    media.shutdown()
    media.server_close()


RESOURCES = ["download", "video", "job", "encoded_video", "format"]


@pytest.mark.parametrize("resource", RESOURCES)
def test_list_and_show_are_the_same_data_in_json_and_xml(populated, resource):
    api: Api = populated["api"]
    for path in (f"/{resource}", f"/{resource}/{populated['ids'][resource]}"):
        as_json = api.get(f"{path}.json")
        as_xml = api.get(f"{path}.xml")
        assert as_json.status_code == as_xml.status_code == 200
        assert as_json.headers["Content-Type"].startswith("application/json")
        assert as_xml.headers["Content-Type"].startswith("application/xml")
        data = decode_body(as_json.content, fmt="json", resource=resource)
        assert decode_body(as_xml.content, fmt="xml", resource=resource) == data
        # The Accept header selects the same representations.
        by_accept = api.get(path, headers={"Accept": "application/xml"})
        assert decode_body(by_accept.content, fmt="xml", resource=resource) == data
        assert api.get(path, headers={"Accept": "application/json"}).json() == data


def test_account_in_json_and_xml(populated):
    api: Api = populated["api"]
    account = api.json("/account.json")
    assert account["login"] == "reader"
    assert isinstance(account["default_format"], int)
    xml = api.get("/account.xml")
    assert b"<account>" in xml.content and b"<user>" in xml.content
    assert decode_body(xml.content, fmt="xml", resource="account") == account


def test_records_have_the_2011_shape(populated):
    api: Api = populated["api"]
    download = api.json(f"/download/{populated['ids']['download']}.json")
    assert download["status"] == "finished"
    assert download["progress"]["percent"] == 100
    assert download["video_id"] == populated["ids"]["video"]
    assert download["error_code"] is None and download["error_msg"] is None
    assert download["created_at"][10] == "T" and download["created_at"][-6] in "+-"

    video = api.json(f"/video/{populated['ids']['video']}.json")
    specs = video["specs"]
    assert specs["video"]["codec"] == "h264" and specs["video"]["container"] == "mp4"
    assert (specs["video"]["width"], specs["video"]["height"]) == (320, 240)
    assert specs["video"]["length"] == 2 and specs["video"]["fps"] == 25.0
    assert specs["audio"]["codec"] == "aac" and specs["audio"]["sample_rate"] == 44100
    assert specs["mime_type"] == "video/mp4" and specs["size"] > 0

    job = api.json(f"/job/{populated['ids']['job']}.json")
    assert job["format_id"] == 2020 and job["progress"] == 100 and job["encoding_options"] == {}

    encoded = api.json(f"/encoded_video/{populated['ids']['encoded_video']}.json")
    assert encoded["job_id"] == job["id"]
    assert encoded["specs"]["format_id"] == "2020"  # a string, as in 2011
    assert encoded["specs"]["video"]["width"] == 320
    assert encoded["link"] == f"{api.base_url}/encoded_video/{encoded['id']}.bin"
    assert encoded["filename"].endswith(".mp4")


def test_xml_uses_the_wiki_shape(populated):
    api: Api = populated["api"]
    downloads = api.get("/download.xml").text
    assert "<downloads>" in downloads and "<video-id>" in downloads
    assert '<progress current_length="' in downloads and 'percent="100"' in downloads
    created = api.json("/download.json")[0]["created_at"]
    assert created not in downloads  # dates are Ruby Time#to_s, not ISO-8601
    video = api.get(f"/video/{populated['ids']['video']}.xml").text
    assert '<video stream="0.0" codec="h264"' in video
    assert "<formats>" in api.get("/format.xml").text
    assert "<format-specs>" in api.get("/format/175.xml").text


def test_bin_redirects_to_the_file_behind_auth(populated, tmp_path):
    api: Api = populated["api"]
    for resource in ("video", "encoded_video"):
        response = api.get(f"/{resource}/{populated['ids'][resource]}.bin")
        assert response.status_code == 302
        location = response.headers["Location"]
        assert location.startswith(f"{api.base_url}/_files/{resource}/")
        assert requests.get(location, timeout=10).status_code == 401
        content = api.get(location).content
        target = tmp_path / f"{resource}.bin"
        target.write_bytes(content)
        assert probe(target).specs["video"]["width"] == 320
    thumb = api.json(f"/video/{populated['ids']['video']}.json")["specs"]["thumb"]
    assert api.get(thumb).content[:2] == b"\xff\xd8"  # a JPEG


def test_builtin_catalogue(populated):
    formats = {f["id"]: f for f in populated["api"].json("/format.json")}
    assert formats[31]["container"] == "flv" and formats[31]["video_codec"] == "flv"
    assert formats[175]["container"] == "mp4" and formats[175]["video_codec"] == "h264"
    assert formats[175]["audio_codec"] == "aac"
    assert any(f["container"] == "webm" for f in formats.values())
    assert any(f["category"] == "devices" and f["container"] == "mp4" for f in formats.values())
    assert all(f["owner"] is False for f in formats.values())
    assert isinstance(formats[31]["video_bitrate"], float)


# --------------------------------------------------------------------------- auth and negotiation


def test_every_resource_needs_basic_auth(emulator):
    anonymous = Api(emulator.base_url, None)
    wrong = Api(emulator.base_url, (emulator.login, "not-the-password"))
    for path in (
        "/account.json",
        "/download.xml",
        "/video",
        "/job/1.json",
        "/encoded_video.json",
        "/format/31",
    ):
        for client in (anonymous, wrong):
            response = client.get(path)
            assert response.status_code == 401, path
            assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert anonymous.post("/download.json", data={"url": "http://x/y.mp4"}).status_code == 401
    assert Api(emulator.base_url, emulator.auth).get("/account.json").status_code == 200


def test_auth_header_is_checked_not_just_present(emulator):
    token = base64.b64encode(f"{emulator.login}:{emulator.password}x".encode()).decode()
    response = requests.get(
        f"{emulator.base_url}/account.json", headers={"Authorization": f"Basic {token}"}, timeout=10
    )
    assert response.status_code == 401


def test_representation_selection(api):
    assert api.get("/format/31").headers["Content-Type"].startswith("application/json")  # default
    assert api.get("/format/31", headers={"Accept": "*/*"}).json()["id"] == 31
    assert api.get("/format/31", params={"format": "xml"}).text.count("<format-specs>") == 1
    assert (
        api.get("/format/31", headers={"Accept": "text/xml"})
        .headers["Content-Type"]
        .startswith("application/xml")
    )
    preferred = api.get("/format/31", headers={"Accept": "application/xml;q=0.5, application/json"})
    assert preferred.headers["Content-Type"].startswith("application/json")
    for path, headers in [
        ("/format/31.yaml", {}),
        ("/format/31.html", {}),
        ("/format/31", {"Accept": "text/html"}),
        ("/format/31", {"Accept": "image/png, application/xml;q=0"}),
        ("/format/31.bin", {}),
        ("/download.bin", {}),
    ]:
        response = api.get(path, headers=headers)
        assert response.status_code == 406, (path, headers)
        assert response.content == b""


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_not_found(api, fmt):
    for path in ("/download/99", "/video/99", "/job/99", "/encoded_video/99", "/format/99", "/job/abc"):
        response = api.get(f"{path}.{fmt}")
        assert response.status_code == 404, path
        assert decode_error_message(response.content, fmt) != ""
    assert api.delete("/video/99.json").status_code == 404
    if fmt == "xml":
        assert api.get("/job/99.xml").text.rstrip().endswith("</message>")
        assert '<message status="fail">' in api.get("/job/99.xml").text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "No URL submitted."),
        ({"url": "not_a_valid_url"}, "Url is invalid"),
        ({"url": "gopher://host/a.mp4"}, "Url is invalid"),
        ({"url": "http://h/a.mp4", "format_id": "31,999"}, "Format 999 does not exist"),
        ({"url": "http://h/a.mp4", "format_id": "31,abc"}, "format_id"),
        ({"url": "http://h/a.mp4", "max_length": "long"}, "max_length"),
        ({"url": "http://h/a.mp4", "automatic_encode": "maybe"}, "automatic_encode"),
        (
            {
                "url": "http://h/a.mp4",
                "format_id": "31,175",
                "ftp_directive": "ftp://u:p@h/a,ftp://u:p@h/b,ftp://u:p@h/c",
            },
            "ftp_directive has 3 values but format_id has 2",
        ),
        (
            {"url": "http://h/a.mp4", "format_id": "31", "ftp_directive": "http://h/a"},
            "ftp_directive is invalid",
        ),
        (
            {"url": "http://h/a.mp4", "format_id": "31", "s3_directive": "s3://k:s@"},
            "s3_directive is invalid",
        ),
        (
            {"url": "http://h/a.mp4", "ping_url_after_transfer": "mailto:x"},
            "ping_url_after_transfer is invalid",
        ),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_download_create_rejects_bad_input(api, data, message, fmt):
    response = api.post(f"/download.{fmt}", data=data)
    assert response.status_code == 400
    assert message in decode_error_message(response.content, fmt)
    assert api.json("/download.json") == []


def test_bad_request_messages_never_echo_credentials(api):
    response = api.post(
        "/download.json",
        data={"url": "http://h/a.mp4", "format_id": "31", "ftp_directive": "sftp://user:TopSecret9@h/a"},
    )
    assert response.status_code == 400
    assert "TopSecret9" not in response.text


def test_job_create_validation(api):
    assert "video_id" in api.post("/job.json", data={"format_id": "31"}).json()["message"]
    assert (
        "Video 42 does not exist"
        in api.post("/job.json", data={"video_id": "42", "format_id": "31"}).json()["message"]
    )


def test_unknown_method_and_route(api):
    assert api.request("PUT", "/download/1.json").status_code == 405
    assert api.get("/nothing-here.json").status_code == 404


# --------------------------------------------------------------------------- create / delete


def test_download_create_answers_201_with_a_pending_download(api, emulator):
    emulator.config.transfer_rate = 1  # keep it in flight
    response = api.post(
        "/download.json",
        data={"url": "http://127.0.0.1:9/clip.mp4", "title": "My clip", "item_id": "77"},
    )
    assert response.status_code == 201
    download = response.json()
    assert download["status"] in ("pending", "downloading", "error")
    assert download["video_id"] == 0 and download["title"] == "My clip"
    assert response.headers["Location"].endswith(f"/download/{download['id']}")
    second = api.post("/download.xml", data={"url": "http://127.0.0.1:9/other.mp4"})
    assert second.status_code == 201
    second_id = decode_body(second.content, fmt="xml", resource="download")["id"]
    assert second_id > download["id"]
    assert [d["id"] for d in api.json("/download.json")] == [download["id"], second_id]
    assert api.delete(f"/download/{download['id']}.json").status_code == 204
    assert api.get(f"/download/{download['id']}.json").status_code == 404


def test_format_create_get_list(api):
    response = api.post(
        "/format.json",
        data={
            "category": "devices",
            "name": "iPad",
            "container": "mp4",
            "video_codec": "h264",
            "video_bitrate": "1500",
            "fps": "30",
            "width": "1280",
            "height": "720",
            "audio_channels": "2",
            "audio_codec": "aac",
            "audio_bitrate": "128",
            "sample_rate": "44000",
            "two_pass": "false",
        },
    )
    assert response.status_code == 201, response.text
    fmt = response.json()
    assert fmt["owner"] is True and fmt["video_bitrate"] == 1500.0 and fmt["fps"] == 30.0
    assert api.json(f"/format/{fmt['id']}.json") == fmt
    assert fmt in api.json("/format.json")
    xml = api.post("/format.xml", data={"name": "x", "container": "zip"})
    assert xml.status_code == 400 and "Container" in decode_error_message(xml.content, "xml")
    assert api.delete("/format/31.json").status_code == 400
    assert api.delete(f"/format/{fmt['id']}.json").status_code == 204


def test_job_cancel_only_while_pending(api, emulator, media_server, sample_video):
    url = media_server.add(sample_video)
    created = api.post("/download.json", data={"url": url}).json()
    finished = api.wait_download(created["id"])
    video_id = finished["download"]["video_id"]
    assert finished["jobs"] == []  # no format, no automatic encode

    assert api.control("POST", "pipeline", json={"paused": True}).json()["paused"] is True
    job = api.post(
        "/job.json",
        data={
            "video_id": str(video_id),
            "format_id": "31",
            "keep_video_size": "true",
            "ftp_directive": "ftp://u:p@h/x",
        },
    )
    assert job.status_code == 201
    job = job.json()
    assert job["status"] == "pending" and job["encoded_video_id"] == 0
    assert job["encoding_options"] == {"keep_video_size": True}
    assert job["ftp_directive"] == "ftp://u:p@h/x"
    assert api.delete(f"/job/{job['id']}.json").status_code == 204
    assert api.get(f"/job/{job['id']}.json").status_code == 404

    kept = api.post("/job.json", data={"video_id": str(video_id), "format_id": "2020"}).json()
    api.control("POST", "pipeline", json={"paused": False})
    wait_until(lambda: api.json(f"/job/{kept['id']}.json")["status"] == "finished", timeout=60, what="job")
    refused = api.delete(f"/job/{kept['id']}.json")
    assert refused.status_code == 400 and "finished" in refused.json()["message"]

    encoded_id = api.json(f"/job/{kept['id']}.json")["encoded_video_id"]
    assert api.delete(f"/encoded_video/{encoded_id}.json").status_code == 204
    assert api.get(f"/encoded_video/{encoded_id}.json").status_code == 404
    assert api.delete(f"/video/{video_id}.xml").status_code == 204
    assert api.json("/video.json") == []
