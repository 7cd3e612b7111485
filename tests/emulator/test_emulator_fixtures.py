"""The shared server fixtures work as documented (other test modules rely on them)."""

from __future__ import annotations

import ftplib
import io
import urllib.request
from urllib.error import HTTPError

import pytest

from airflow_heywatch.emulator.media import probe
from fixtures.servers import FTP_PASSWORD


def test_sample_video_is_a_real_two_second_clip(sample_video):
    found = probe(sample_video)
    assert found.specs["video"]["codec"] == "h264"
    assert (found.specs["video"]["width"], found.specs["video"]["height"]) == (320, 240)
    assert found.specs["audio"]["codec"] == "aac"
    assert 1.9 <= found.duration <= 2.2


def test_media_server_serves_files_and_404s(media_server, sample_video):
    url = media_server.add(sample_video, "clip.mp4")
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == sample_video.read_bytes()
    with pytest.raises(HTTPError) as info:
        urllib.request.urlopen(media_server.url_for("missing.mp4"), timeout=10)
    assert info.value.code == 404


def test_ftp_server_accepts_its_user_only(ftp_server):
    with ftplib.FTP() as ftp:
        ftp.connect(ftp_server.host, ftp_server.port, timeout=10)
        ftp.login(ftp_server.user, FTP_PASSWORD)
        ftp.mkd("videos")
        ftp.storbinary("STOR videos/a.bin", io.BytesIO(b"abc"))
    assert ftp_server.files() == ["videos/a.bin"]
    assert ftp_server.url("/videos") == f"ftp://deliver:{FTP_PASSWORD}@127.0.0.1:{ftp_server.port}/videos"
    with ftplib.FTP() as ftp:
        ftp.connect(ftp_server.host, ftp_server.port, timeout=10)
        with pytest.raises(ftplib.error_perm):
            ftp.login(ftp_server.user, "wrong")


def test_ping_receiver_records_form_posts(ping_receiver):
    body = b"video_id=12&nvid=7"
    request = urllib.request.Request(
        ping_receiver.url("/after?x=1"),
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    (received,) = ping_receiver.wait_for(1, path="/after", timeout=5)
    assert received.form == {"video_id": "12", "nvid": "7"}
    assert received.query == {"x": "1"}


def test_s3_server_is_a_working_s3_endpoint(s3_server):
    s3_server.create_bucket("videos")
    s3_server.client().put_object(Bucket="videos", Key="a/b.mp4", Body=b"x")
    assert s3_server.keys("videos") == ["a/b.mp4"]
    assert s3_server.directive("videos", "a/") == ("s3://AKIAEMULATORTEST:s3cr3t%2FKey%2BEmu9@videos/a/")
