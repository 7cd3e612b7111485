from __future__ import annotations

import pytest

from airflow_heywatch.api.errors import HeyWatchRemoteFailure
from airflow_heywatch.api.status import (
    DownloadStatus,
    JobStatus,
    Verdict,
    classify,
    parse_download_status,
    parse_job_status,
)


def test_enums_terminal_sets():
    assert frozenset({DownloadStatus.FINISHED, DownloadStatus.ERROR}) == DownloadStatus.TERMINAL
    assert frozenset({DownloadStatus.FINISHED}) == DownloadStatus.SUCCESS
    assert frozenset({DownloadStatus.ERROR}) == DownloadStatus.FAILURE
    assert frozenset({JobStatus.FINISHED, JobStatus.ERROR}) == JobStatus.TERMINAL
    assert frozenset({JobStatus.FINISHED}) == JobStatus.SUCCESS
    assert [status.value for status in DownloadStatus] == ["pending", "downloading", "finished", "error"]
    assert [status.value for status in JobStatus] == ["pending", "working", "finished", "error"]
    assert DownloadStatus.FINISHED.is_terminal and DownloadStatus.ERROR.is_terminal
    assert not DownloadStatus.PENDING.is_terminal and not DownloadStatus.DOWNLOADING.is_terminal
    assert JobStatus.ERROR.is_terminal and not JobStatus.WORKING.is_terminal
    assert DownloadStatus.FINISHED == "finished" and str(JobStatus.WORKING) == "working"


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("finished", DownloadStatus.FINISHED),
        ("Downloading", DownloadStatus.DOWNLOADING),
        (" error ", DownloadStatus.ERROR),
        ("queued", "queued"),
        ("", ""),
        (None, ""),
        (3, "3"),
    ],
)
def test_parse_download_status(raw, parsed):
    result = parse_download_status(raw)
    assert result == parsed
    assert type(result) is type(parsed)


def test_parse_job_status_keeps_unknown_values():
    assert parse_job_status("working") is JobStatus.WORKING
    assert parse_job_status(JobStatus.PENDING) is JobStatus.PENDING
    assert parse_job_status("cancelled") == "cancelled"
    assert parse_download_status("working") == "working"  # a job status is unknown to downloads


DL = {"id": 12, "video_id": 0, "progress": {"percent": 45}}


def test_download_error_fails_with_remote_failure():
    verdict = classify({**DL, "status": "error", "error_code": 201, "error_msg": "gone"})
    assert verdict.state == "failed" and verdict.failed
    assert isinstance(verdict.failure, HeyWatchRemoteFailure)
    assert verdict.failure.resource == "download" and verdict.failure.resource_id == 12
    assert verdict.reason == "download 12 failed: error 201 (404 Not Found (source URL gave 404)): gone"


@pytest.mark.parametrize("status", ["pending", "downloading"])
def test_download_not_finished_waits(status):
    verdict = classify({**DL, "status": status}, wait_for_encoding=True)
    assert verdict == Verdict("waiting", f"download 12 is {status} (45%)")
    assert verdict.failure is None


def test_download_unknown_status_waits_and_names_it():
    verdict = classify({**DL, "status": "paused"})
    assert verdict.state == "waiting"
    assert "'paused'" in verdict.reason


def test_download_finished_is_done_without_waiting_for_encoding():
    verdict = classify({"id": 12, "status": "finished", "video_id": 77}, [{"id": 1, "status": "error"}])
    assert verdict.state == "done" and verdict.done
    assert "video 77" in verdict.reason


FINISHED = {"id": 12, "status": "finished", "video_id": 77}


def test_any_job_error_fails():
    jobs = [
        {"id": 1, "status": "working", "progress": 10},
        {"id": 2, "status": "error", "error_code": 103, "error_msg": "nope"},
    ]
    verdict = classify(FINISHED, jobs, wait_for_encoding=True, expected_jobs=3)
    assert verdict.state == "failed"
    assert verdict.failure.resource == "job" and verdict.failure.resource_id == 2
    assert "error 103 (This video cannot be encoded in this format): nope" in verdict.reason


def test_fewer_jobs_than_expected_waits():
    jobs = [{"id": 1, "status": "finished"}]
    verdict = classify(FINISHED, jobs, wait_for_encoding=True, expected_jobs=2)
    assert verdict.state == "waiting"
    assert "1 of 2" in verdict.reason


def test_no_jobs_yet_waits_when_expected_jobs_unknown():
    assert classify(FINISHED, None, wait_for_encoding=True).state == "waiting"
    assert classify(FINISHED, [], wait_for_encoding=True, expected_jobs=0).state == "done"


def test_job_not_finished_waits():
    jobs = [{"id": 1, "status": "finished"}, {"id": 2, "status": "working", "progress": 55}]
    verdict = classify(FINISHED, jobs, wait_for_encoding=True, expected_jobs=2)
    assert verdict == Verdict("waiting", "job 2 is working (55%)")


def test_job_unknown_status_waits():
    jobs = [{"id": 1, "status": "finished"}, {"id": 2, "status": "uploading"}]
    verdict = classify(FINISHED, jobs, wait_for_encoding=True, expected_jobs=2)
    assert verdict.state == "waiting"
    assert "'uploading'" in verdict.reason


def test_all_jobs_finished_is_done():
    jobs = [{"id": 1, "status": "finished"}, {"id": 2, "status": "finished"}]
    verdict = classify(FINISHED, jobs, wait_for_encoding=True, expected_jobs=2)
    assert verdict.state == "done"
    assert "1, 2" in verdict.reason
    assert classify(FINISHED, jobs, wait_for_encoding=True).state == "done"
