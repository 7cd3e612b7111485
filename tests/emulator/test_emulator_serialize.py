"""The wiki-XML / 2011-JSON serialiser: the API-core decoder turns its output back into the same data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_heywatch.api.decoding import decode_error_message, decode_json, decode_xml
from airflow_heywatch.api.serialize import error_json, error_xml, ruby_time, to_json, to_xml

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "samples"

SAMPLE_RESOURCES = [
    ("download_list_devdocs.json", "download"),
    ("download_show_devdocs.json", "download"),
    ("video_list_devdocs.json", "video"),
    ("video_show_devdocs.json", "video"),
    ("encoded_video_list_devdocs.json", "encoded_video"),
    ("encoded_video_show_devdocs_unindented.json", "encoded_video"),
    ("format_show_devdocs.json", "format"),
    ("job_list_devdocs.json", "job"),
    ("job_create_ruby_readme.json", "job"),
]


@pytest.mark.parametrize(("sample", "resource"), SAMPLE_RESOURCES)
def test_samples_round_trip_through_wiki_xml(sample, resource):
    data = decode_json((SAMPLES / sample).read_text(), resource)
    assert decode_xml(to_xml(resource, data), resource) == data
    assert json.loads(to_json(data)) == data


def test_empty_string_becomes_null_in_wiki_xml():
    # Wiki XML has no empty string: an empty element is nil (the documented sample 1975 has audio_codec "").
    data = decode_json((SAMPLES / "format_list_devdocs.json").read_text(), "format")
    back = decode_xml(to_xml("format", data), "format")
    assert back[1]["audio_codec"] is None
    assert {**back[1], "audio_codec": ""} == data[1]


def test_wiki_shapes():
    download = decode_json((SAMPLES / "download_show_devdocs.json").read_text(), "download")
    xml = to_xml("download", [download]).decode()
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<downloads>')
    assert '<progress current_length="0" speed="0" percent="100" time_left="Time" />' in xml
    assert "<video-id>7863245</video-id>" in xml
    assert "<created-at>Wed Feb 09 17:44:44 +0100 2011</created-at>" in xml

    fmt = decode_json((SAMPLES / "format_show_devdocs.json").read_text(), "format")
    assert "<format-specs>" in to_xml("format", fmt).decode()
    assert "<formats><format-specs>" in to_xml("format", [fmt]).decode().replace("\n", "").replace(" ", "")

    ev = decode_json((SAMPLES / "encoded_video_show_devdocs_unindented.json").read_text(), "encoded_video")
    xml = to_xml("encoded_video", ev).decode()
    assert '<audio sample_rate="22050" synched="true"' in xml
    assert "<format-id>31</format-id>" in xml

    for resource in ("download", "video", "job", "encoded_video", "format"):
        assert to_xml(resource, []).decode().endswith("<nil-classes />")
        assert decode_xml(to_xml(resource, []), resource) == []


def test_account_is_wrapped_in_user():
    account = {
        "login": "someone",
        "email": "someone@example.com",
        "default_format": 175,
        "automatic_encode": False,
        "created_at": "2011-06-15T12:13:13+02:00",
    }
    xml = to_xml("account", account).decode()
    assert "<account><user><login>someone</login>" in xml.replace("\n", "").replace("  ", "")
    assert decode_xml(to_xml("account", account), "account") == account


def test_encoding_options_keep_their_types():
    job = decode_json((SAMPLES / "job_list_devdocs.json").read_text(), "job")[1]
    assert decode_xml(to_xml("job", job), "job")["encoding_options"] == {
        "watermark_position": "topleft",
        "keep_fps": False,
        "watermark_image_url": "http://site.com/images/watermark.png",
    }


def test_error_bodies():
    assert error_json("Url is invalid") == (SAMPLES / "error_400_ruby_readme.json").read_bytes().strip()
    assert error_xml("No URL submitted.").endswith(b'<message status="fail">No URL submitted.</message>')
    assert decode_error_message(error_xml("No URL submitted."), "xml") == "No URL submitted."
    assert decode_error_message(error_json("Url is invalid"), "json") == "Url is invalid"


@pytest.mark.parametrize(
    ("iso", "ruby"),
    [
        ("2009-11-06T10:55:59+01:00", "Fri Nov 06 10:55:59 +0100 2009"),
        ("2011-06-08T15:41:58-05:30", "Wed Jun 08 15:41:58 -0530 2011"),
        ("2011-02-09T17:44:44Z", "Wed Feb 09 17:44:44 +0000 2011"),
    ],
)
def test_ruby_time(iso, ruby):
    assert ruby_time(iso) == ruby
