"""Every sample in tests/fixtures/samples decodes to the exact values it holds."""

from __future__ import annotations

import json

import pytest
from api_helpers import SAMPLES, assert_same

from airflow_heywatch.api.decoding import decode_body, decode_error_message

JSON_SAMPLES = {
    "download_list_devdocs.json": "download",
    "download_show_devdocs.json": "download",
    "video_list_devdocs.json": "video",
    "video_show_devdocs.json": "video",
    "encoded_video_list_devdocs.json": "encoded_video",
    "encoded_video_show_devdocs_unindented.json": "encoded_video",
    "format_list_devdocs.json": "format",
    "format_show_devdocs.json": "format",
    "job_list_devdocs.json": "job",
    "job_create_ruby_readme.json": "job",
}


def decode(name: str, resource: str, fmt: str = "json"):
    return decode_body((SAMPLES / name).read_bytes(), fmt=fmt, resource=resource)


@pytest.mark.parametrize(("name", "resource"), sorted(JSON_SAMPLES.items()))
def test_json_sample_is_kept_exactly(name, resource):
    assert_same(decode(name, resource), json.loads((SAMPLES / name).read_text()))


def test_download_samples_values():
    [listed] = decode("download_list_devdocs.json", "download")
    shown = decode("download_show_devdocs.json", "download")
    assert listed == shown
    assert shown["id"] == 3928279 and shown["video_id"] == 7863245 and shown["length"] == 208
    assert_same(shown["progress"], {"current_length": 0, "speed": 0, "percent": 100, "time_left": "Time"})
    assert shown["error_msg"] is None and shown["error_code"] is None
    assert shown["created_at"] == "2011-02-09T17:44:44+01:00"
    assert shown["status"] == "finished"


def test_video_sample_values():
    video = decode("video_show_devdocs.json", "video")
    assert video["id"] == 7863245
    assert_same(video["specs"]["audio"]["stream"], 0.1)
    assert_same(video["specs"]["audio"]["synched"], False)
    assert_same(video["specs"]["video"]["fps"], 0.0)
    assert_same(video["specs"]["video"]["aspect"], 1.33)
    assert_same(video["specs"]["video"]["rotation"], 0)
    assert video["specs"]["mime_type"] == "video/x-ms-asf;"


def test_encoded_video_samples_values_and_string_format_id():
    [listed] = decode("encoded_video_list_devdocs.json", "encoded_video")
    shown = decode("encoded_video_show_devdocs_unindented.json", "encoded_video")
    assert listed == shown
    assert_same(shown["specs"]["format_id"], "31")
    assert shown["id"] == 7873875 and shown["job_id"] == 4022573
    assert shown["link"] == "http://heywatch.com/encoded_video/7873875.bin"
    assert_same(shown["specs"]["audio"]["synched"], True)
    assert "rotation" not in shown["specs"]["video"]


def test_format_samples_values():
    first, second = decode("format_list_devdocs.json", "format")
    assert first == decode("format_show_devdocs.json", "format")
    assert_same(first["video_bitrate"], 800.0)
    assert_same(first["audio_bitrate"], 96.0)
    assert_same(second["fps"], 23.98)
    assert_same(second["two_pass"], True)
    assert_same(second["owner"], True)
    assert_same(second["audio_codec"], "")
    assert (first["id"], second["id"]) == (1086, 1975)


def test_job_samples_values():
    first, second = decode("job_list_devdocs.json", "job")
    assert_same(first["progress"], 100)
    assert_same(first["format_id"], 3458)
    assert_same(first["encoding_options"], {"keep_video_size": True})
    assert_same(
        second["encoding_options"],
        {
            "watermark_position": "topleft",
            "keep_fps": False,
            "watermark_image_url": "http://site.com/images/watermark.png",
        },
    )
    assert second["http_upload_directive"] == "http://site.com/heywatch/upload?post_id=1234454322"
    created = decode("job_create_ruby_readme.json", "job")
    assert created["id"] == 4944088 and created["status"] == "pending"
    assert_same(created["encoded_video_id"], 0)
    assert created["s3_directive"] == "s3://accesskey:secretkey@myvideobucket/flv/123434.flv"


def test_wiki_download_list_xml():
    [download] = decode("download_list_wiki.xml", "download", "xml")
    assert_same(
        download,
        {
            "status": "finished",
            "updated_at": "2006-10-27T14:26:18+02:00",
            "video_id": 524,
            "title": "YouTube - Rube Goldberg Officeplace Contraption",
            "error_msg": None,
            "url": "http:// host.com/videos/fun.avi",
            "id": 79,
            "progress": {"percent": 100, "current_length": 2109},
            "length": 2109,
            "created_at": "2006-10-27T14:26:11+02:00",
        },
    )


def test_ruby_readme_error_body():
    body = (SAMPLES / "error_400_ruby_readme.json").read_bytes()
    assert decode_error_message(body, "json") == "Url is invalid"


def test_delete_response_has_no_body():
    raw = (SAMPLES / "video_delete_devdocs_response.txt").read_text()
    assert "204 No Content" in raw
    assert decode_body(b"", fmt="json", resource="video") is None
    assert decode_body(b"  \n", fmt="xml", resource="video") is None
