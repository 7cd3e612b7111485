"""Pure helpers of one look at a download: ids, job selection and order, summaries, progress."""

from __future__ import annotations

import json

import pytest

from airflow_heywatch.api.errors import HeyWatchValidationError
from airflow_heywatch.sensors.polling import (
    encoded_video_summary,
    jobs_of_download,
    normalise_format_ids,
    order_jobs,
    parse_download_ref,
    progress_line,
)
from conftest import SAMPLES_DIR


def _sample(name: str):
    return json.loads((SAMPLES_DIR / name).read_text())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12, (12, None)),
        ("12", (12, None)),
        (" 7 ", (7, None)),
        ({"id": 12, "format_ids": [31, 175]}, (12, [31, 175])),
        ({"id": "12", "format_ids": ["31", "mp4"]}, (12, [31, "mp4"])),
        ({"id": 12, "format_ids": None}, (12, None)),
    ],
)
def test_parse_download_ref_accepts_ids_and_operator_xcom(value, expected):
    assert parse_download_ref(value) == expected


@pytest.mark.parametrize("value", [None, True, 0, -3, "abc", "12a", 1.5, {"title": "x"}, [12]])
def test_parse_download_ref_refuses_other_values_naming_the_parameter(value):
    with pytest.raises(HeyWatchValidationError) as info:
        parse_download_ref(value)
    assert info.value.parameter == "download_id"
    assert "download_id" in str(info.value)


def test_parse_download_ref_explains_a_rendered_dict():
    with pytest.raises(HeyWatchValidationError, match="XComArg"):
        parse_download_ref("{'id': 12, 'status': 'pending'}")


def test_normalise_format_ids():
    assert normalise_format_ids(None) == []
    assert normalise_format_ids("31,175") == [31, 175]
    assert normalise_format_ids(31) == [31]
    assert normalise_format_ids(["31", 175, "ios_720p"]) == [31, 175, "ios_720p"]
    with pytest.raises(HeyWatchValidationError):
        normalise_format_ids([True])
    with pytest.raises(HeyWatchValidationError):
        normalise_format_ids({"a": 1})


def test_jobs_of_download_selects_the_jobs_of_its_video():
    jobs = _sample("job_list_devdocs.json")
    download = {"id": 1, "video_id": jobs[1]["video_id"], "status": "finished"}
    assert [job["id"] for job in jobs_of_download(download, jobs)] == [jobs[1]["id"]]
    assert jobs_of_download({"id": 1, "video_id": 0}, jobs) == []


def test_order_jobs_follows_the_requested_formats_and_repeats():
    jobs = [
        {"id": 5, "format_id": 175},
        {"id": 3, "format_id": 31},
        {"id": 9, "format_id": 31},
        {"id": 4, "format_id": 999},
    ]
    assert [job["id"] for job in order_jobs(jobs, [31, 175, 31])] == [3, 5, 9, 4]
    assert [job["id"] for job in order_jobs(jobs, ["175", 31])] == [5, 3, 4, 9]
    assert [job["id"] for job in order_jobs(jobs, [])] == [3, 4, 5, 9]


def test_encoded_video_summary_from_the_documented_sample():
    encoded = _sample("encoded_video_show_devdocs_unindented.json")
    job = {"id": encoded["job_id"], "video_id": 77, "format_id": 31, "encoded_video_id": encoded["id"]}
    assert encoded_video_summary(job, encoded) == {
        "id": 7873875,
        "job_id": 4022573,
        "video_id": 77,
        "format_id": 31,
        "format_name": "Flash video",
        "filename": "vid_77838372.flv",
        "link": "http://heywatch.com/encoded_video/7873875.bin",
        "size": 341,
    }


def test_encoded_video_summary_redacts_credentials():
    summary = encoded_video_summary(
        {"id": 1, "video_id": 2, "format_id": 31},
        {"id": 3, "link": "ftp://u:pw@host/x.flv", "specs": {"format_id": "31"}},
    )
    assert summary["link"] == "ftp://u:***@host/x.flv"


def test_progress_line_has_percent_size_speed_and_time_left():
    line = progress_line(
        {
            "id": 12,
            "status": "downloading",
            "length": 2109,
            "progress": {"percent": 45, "current_length": 950, "speed": 120, "time_left": "00:00:10"},
        }
    )
    assert line == "download 12 downloading: 45%, 950 of 2109 KB, 120 KB/s, 00:00:10 left"
    assert progress_line({"id": 3, "status": "pending"}) == "download 3 pending"
