"""What really happens after a create: transfer, probe, encode, delivery (FTP, HTTP, S3), pings, errors."""

from __future__ import annotations

import pytest
from emulator_helpers import Api, wait_until

from airflow_heywatch.emulator.media import probe
from fixtures.servers import FTP_PASSWORD, S3_SECRET_KEY

pytestmark = pytest.mark.integration


def test_two_formats_delivered_to_two_ftp_folders_in_order(
    api, media_server, sample_video, ftp_server, ping_receiver
):
    url = media_server.add(sample_video, "holiday.mp4")
    response = api.post(
        "/download.json",
        data={
            "url": url,
            "format_id": "31,175",
            "ftp_directive": f"{ftp_server.url('/videos/flv')},{ftp_server.url('/videos/mp4/')}",
            "ping_url_after_transfer": ping_receiver.url("/transfer"),
            "ping_url_after_encode": ping_receiver.url("/encode"),
            "ping_url_if_error": ping_receiver.url("/error"),
            "item_id": "1546",
        },
    )
    assert response.status_code == 201, response.text
    state = api.wait_download(response.json()["id"], jobs=2)
    download, jobs = state["download"], state["jobs"]
    assert download["status"] == "finished"
    assert [j["format_id"] for j in jobs] == [31, 175]
    assert [j["status"] for j in jobs] == ["finished", "finished"], jobs
    assert jobs[0]["ftp_directive"] == ftp_server.url("/videos/flv")  # echoed, as HeyWatch did
    assert jobs[1]["ftp_directive"] == ftp_server.url("/videos/mp4/")

    assert ftp_server.files() == ["videos/flv/holiday_31.flv", "videos/mp4/holiday_175.mp4"]
    flv = probe(ftp_server.root / "videos/flv/holiday_31.flv").specs
    assert flv["video"]["container"] == "flv" and flv["video"]["codec"] == "flv"
    assert flv["audio"]["codec"] == "mp3"
    assert (flv["video"]["width"], flv["video"]["height"]) == (320, 240)
    mp4 = probe(ftp_server.root / "videos/mp4/holiday_175.mp4")
    assert mp4.specs["video"]["codec"] == "h264" and mp4.specs["audio"]["codec"] == "aac"
    assert mp4.specs["video"]["width"] == 640 and 1.9 <= mp4.duration <= 2.2

    encoded = {e["job_id"]: e for e in api.json("/encoded_video.json")}
    assert encoded[jobs[0]["id"]]["specs"]["format_id"] == "31"
    assert encoded[jobs[0]["id"]]["specs"]["mime_type"] == "video/x-flv"
    assert encoded[jobs[1]["id"]]["specs"]["video"]["width"] == 640

    (transfer,) = ping_receiver.wait_for(1, path="/transfer")
    assert transfer.method == "POST" and transfer.content_type == "application/x-www-form-urlencoded"
    assert transfer.form == {
        "download_id": str(download["id"]),
        "video_id": str(download["video_id"]),
        "item_id": "1546",
    }
    pings = ping_receiver.wait_for(2, path="/encode")
    by_job = {p.form["job_id"]: p.form for p in pings}
    for job in jobs:
        form = by_job[str(job["id"])]
        assert form["encoded_video_id"] == str(job["encoded_video_id"])
        assert form["video_id"] == str(download["video_id"])
        assert form["item_id"] == "1546"
        assert form["link"] == f"{api.base_url}/encoded_video/{job['encoded_video_id']}.bin"
        assert form["filename"] == encoded[job["id"]]["filename"]
    assert ping_receiver.for_path("/error") == []


def test_a_single_directive_applies_to_every_format(api, media_server, sample_video, ftp_server):
    url = media_server.add(sample_video, "one.mp4")
    created = api.post(
        "/download.json",
        data={"url": url, "format_id": "2020,2030", "ftp_directive": ftp_server.url("/all/")},
    ).json()
    jobs = api.wait_download(created["id"], jobs=2)["jobs"]
    assert [j["status"] for j in jobs] == ["finished", "finished"], jobs
    assert ftp_server.files() == ["all/one_2020.mp4", "all/one_2030.3gp"]


def test_http_upload_delivery(api, media_server, sample_video, ping_receiver):
    url = media_server.add(sample_video, "up.mp4")
    created = api.post(
        "/download.json",
        data={
            "url": url,
            "format_id": "2020",
            "http_upload_directive": ping_receiver.url("/upload?post_id=9"),
            "nvid": "abc",
        },
    ).json()
    (job,) = api.wait_download(created["id"], jobs=1)["jobs"]
    assert job["status"] == "finished", job
    (upload,) = ping_receiver.wait_for(1, path="/upload")
    assert upload.method == "POST" and upload.content_type == "multipart/form-data"
    assert upload.query == {"post_id": "9"}
    assert upload.form == {
        "encoded_video_id": str(job["encoded_video_id"]),
        "video_id": str(job["video_id"]),
        "job_id": str(job["id"]),
        "nvid": "abc",
    }
    filename, content = upload.files["encoded_video"]
    assert filename == "up_2020.mp4"
    assert content == api.get(f"/encoded_video/{job['encoded_video_id']}.bin", allow_redirects=True).content


def test_s3_delivery_to_a_local_s3_server(api, emulator, media_server, sample_video, s3_server):
    emulator.config.s3_endpoint_url = s3_server.endpoint_url
    s3_server.create_bucket("videos")
    url = media_server.add(sample_video, "s3.mp4")
    created = api.post(
        "/download.json",
        data={
            "url": url,
            "format_id": "31,2020",
            "s3_directive": ",".join(
                [s3_server.directive("videos", "web/flv/"), s3_server.directive("videos", "web/m.mp4")]
            ),
        },
    ).json()
    jobs = api.wait_download(created["id"], jobs=2)["jobs"]
    assert [j["status"] for j in jobs] == ["finished", "finished"], jobs
    assert s3_server.keys("videos") == ["web/flv/s3_31.flv", "web/m.mp4"]
    head = s3_server.client().head_object(Bucket="videos", Key="web/m.mp4")
    assert head["ContentType"] == "video/mp4" and head["ContentLength"] > 1000


def test_failed_deliveries_put_the_job_in_error_without_credentials(
    api, emulator, media_server, sample_video, ftp_server, s3_server, ping_receiver
):
    emulator.config.s3_endpoint_url = s3_server.endpoint_url  # no bucket created: the upload fails
    url = media_server.add(sample_video, "bad.mp4")
    created = api.post(
        "/download.json",
        data={
            "url": url,
            "format_id": "2020,2020,2020",
            "ftp_directive": ftp_server.url("/x/", password="Wrong-Pa55word"),
            "s3_directive": s3_server.directive("missing-bucket", "a/"),
            "http_upload_directive": ping_receiver.url("/refuse"),
            "ping_url_if_error": ping_receiver.url("/error"),
        },
    ).json()
    jobs = api.wait_download(created["id"], jobs=3)["jobs"]
    assert [j["status"] for j in jobs] == ["error"] * 3, jobs
    for job in jobs:
        assert job["error_code"] == 100
        assert "FTP delivery" in job["error_msg"]
        assert "Wrong-Pa55word" not in job["error_msg"]
    errors = ping_receiver.wait_for(3, path="/error")
    for ping in errors:
        assert ping.form["error_code"] == "100" and "job_id" in ping.form
        assert "Wrong-Pa55word" not in ping.form["error_msg"]

    # S3 and HTTP failures, each on its own.
    ping_receiver.status = 500
    s3_job = api.post(
        "/job.json",
        data={
            "video_id": str(jobs[0]["video_id"]),
            "format_id": "2020",
            "s3_directive": s3_server.directive("nope", "k/"),
        },
    ).json()
    http_job = api.post(
        "/job.json",
        data={
            "video_id": str(jobs[0]["video_id"]),
            "format_id": "2020",
            "http_upload_directive": ping_receiver.url("/refuse"),
        },
    ).json()
    s3_done = wait_until(
        lambda: (j := api.json(f"/job/{s3_job['id']}.json"))["status"] == "error" and j, timeout=60
    )
    http_done = wait_until(
        lambda: (j := api.json(f"/job/{http_job['id']}.json"))["status"] == "error" and j, timeout=60
    )
    assert "S3 delivery to s3://nope/k/" in s3_done["error_msg"]
    for secret in (S3_SECRET_KEY, "s3cr3t%2FKey", FTP_PASSWORD):
        assert secret not in s3_done["error_msg"]
    assert "HTTP 500" in http_done["error_msg"]


def test_a_failing_ping_receiver_never_breaks_the_pipeline(
    api, media_server, sample_video, ping_receiver, ftp_server
):
    ping_receiver.status = 500
    url = media_server.add(sample_video, "p.mp4")
    created = api.post(
        "/download.json",
        data={
            "url": url,
            "format_id": "2020",
            "ftp_directive": ftp_server.url("/out/"),
            "ping_url_after_transfer": ping_receiver.url("/t"),
            "ping_url_after_encode": "http://127.0.0.1:9/unreachable",
        },
    ).json()
    (job,) = api.wait_download(created["id"], jobs=1)["jobs"]
    assert job["status"] == "finished"
    assert ftp_server.files() == ["out/p_2020.mp4"]
    ping_receiver.wait_for(1, path="/t")


def test_keep_video_size_and_keep_fps(api, media_server, sample_video):
    url = media_server.add(sample_video, "k.mp4")
    created = api.post(
        "/download.json",
        data={"url": url, "format_id": "2020", "keep_video_size": "true", "keep_fps": "true"},
    ).json()
    (job,) = api.wait_download(created["id"], jobs=1)["jobs"]
    assert job["encoding_options"] == {"keep_video_size": True, "keep_fps": True}
    video = api.json(f"/encoded_video/{job['encoded_video_id']}.json")["specs"]["video"]
    assert (video["width"], video["height"], video["fps"]) == (320, 240, 25.0)
    plain = api.post("/job.json", data={"video_id": str(job["video_id"]), "format_id": "2020"}).json()
    done = wait_until(
        lambda: (j := api.json(f"/job/{plain['id']}.json"))["status"] == "finished" and j, timeout=60
    )
    video = api.json(f"/encoded_video/{done['encoded_video_id']}.json")["specs"]["video"]
    assert (video["width"], video["height"], video["fps"]) == (320, 240, 15.0)  # format 2020: 15 fps


def test_webm_format(api, media_server, sample_video):
    webm = next(f for f in api.json("/format.json") if f["container"] == "webm")
    url = media_server.add(sample_video, "w.mp4")
    created = api.post("/download.json", data={"url": url, "format_id": str(webm["id"])}).json()
    (job,) = api.wait_download(created["id"], jobs=1)["jobs"]
    assert job["status"] == "finished", job
    specs = api.json(f"/encoded_video/{job['encoded_video_id']}.json")["specs"]
    assert specs["video"]["container"] == "webm" and specs["mime_type"] == "video/webm"


def test_transfer_from_ftp(api, ftp_server, sample_video):
    (ftp_server.root / "in").mkdir()
    (ftp_server.root / "in" / "source.mp4").write_bytes(sample_video.read_bytes())
    created = api.post("/download.json", data={"url": ftp_server.url("/in/source.mp4")}).json()
    download = api.wait_download(created["id"])["download"]
    assert download["status"] == "finished", download
    assert download["length"] == -(-sample_video.stat().st_size // 1024)
    assert api.json(f"/video/{download['video_id']}.json")["specs"]["video"]["codec"] == "h264"
    missing = api.post("/download.json", data={"url": ftp_server.url("/in/missing.mp4")}).json()
    failed = api.wait_download(missing["id"])["download"]
    assert (failed["status"], failed["error_code"]) == ("error", 201)


def test_progress_is_observable_with_a_transfer_rate(api, emulator, media_server, sample_video):
    emulator.config.transfer_rate = 100  # KB/s: the ~150 KB clip takes about 1.5 s
    url = media_server.add(sample_video, "slow.mp4")
    created = api.post("/download.json", data={"url": url}).json()
    seen = wait_until(
        lambda: (
            (d := api.json(f"/download/{created['id']}.json"))["status"] == "downloading"
            and 0 < d["progress"]["percent"] < 100
            and d
        ),
        timeout=10,
        what="a download in progress",
    )
    assert seen["length"] > 0 and 0 < seen["progress"]["current_length"] < seen["length"]
    assert 0 < seen["progress"]["speed"] <= 150
    assert seen["progress"]["time_left"].count(":") == 2
    assert api.get("/account.json").status_code == 200  # the API answers while transfers run
    assert api.wait_download(created["id"])["download"]["status"] == "finished"


# --------------------------------------------------------------------------- transfer error codes


def _failed(api: Api, ping_receiver, data: dict[str, str]) -> dict:
    created = api.post(
        "/download.json", data={**data, "ping_url_if_error": ping_receiver.url("/error"), "ref": "r1"}
    )
    assert created.status_code == 201, created.text
    download = api.wait_download(created.json()["id"])["download"]
    assert download["status"] == "error", download
    (ping,) = ping_receiver.wait_for(1, path="/error")
    assert ping.form == {
        "download_id": str(download["id"]),
        "error_code": str(download["error_code"]),
        "error_msg": download["error_msg"],
        "ref": "r1",
    }
    assert download["video_id"] == 0
    return download


def test_unreachable_host_is_202(api, ping_receiver):
    download = _failed(api, ping_receiver, {"url": "http://127.0.0.1:9/video.mp4"})
    assert download["error_code"] == 202


def test_http_404_is_201(api, ping_receiver, media_server):
    download = _failed(api, ping_receiver, {"url": media_server.url_for("missing.mp4")})
    assert download["error_code"] == 201


def test_not_a_video_is_107(api, ping_receiver, media_server):
    (media_server.root / "notes.txt").write_text("these are not the frames you are looking for\n" * 50)
    download = _failed(api, ping_receiver, {"url": media_server.url_for("notes.txt")})
    assert download["error_code"] == 107


def test_unreadable_media_is_106(api, ping_receiver, media_server, sample_video):
    (media_server.root / "broken.mp4").write_bytes(sample_video.read_bytes()[:4096])
    download = _failed(api, ping_receiver, {"url": media_server.url_for("broken.mp4")})
    assert download["error_code"] == 106


def test_longer_than_max_length_is_108(api, ping_receiver, media_server, sample_video):
    url = media_server.add(sample_video, "long.mp4")
    download = _failed(api, ping_receiver, {"url": url, "max_length": "1", "format_id": "31"})
    assert download["error_code"] == 108
    assert api.json("/job.json") == [] and api.json("/video.json") == []
