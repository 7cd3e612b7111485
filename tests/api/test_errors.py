from __future__ import annotations

import pickle

import pytest

from airflow_heywatch.api.errors import (
    ERROR_CODES,
    HeyWatchAPIError,
    HeyWatchAuthError,
    HeyWatchBadRequestError,
    HeyWatchError,
    HeyWatchNotAcceptableError,
    HeyWatchNotFoundError,
    HeyWatchRateLimitError,
    HeyWatchRemoteFailure,
    HeyWatchServerError,
    HeyWatchValidationError,
    api_error,
    describe_error_code,
)


def test_error_code_table_is_the_documented_one():
    assert sorted(ERROR_CODES) == [*range(100, 111), 201, 202, 300, 301]
    assert ERROR_CODES[201] == "404 Not Found (source URL gave 404)"
    assert ERROR_CODES[107] == "Not a video file"
    assert ERROR_CODES[301] == "Not enough credits"


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (201, "404 Not Found (source URL gave 404)"),
        ("300", "No more credit available"),
        (" 102 ", "Unsupported video codec"),
        (999, "undocumented error code 999"),
        ("abc", "undocumented error code abc"),
        (None, "no error code"),
    ],
)
def test_describe_error_code(code, text):
    assert describe_error_code(code) == text


def test_remote_failure_text_and_attributes():
    failure = HeyWatchRemoteFailure("download", 12, 201, "the source answered 404")
    assert str(failure) == (
        "download 12 failed: error 201 (404 Not Found (source URL gave 404)): the source answered 404"
    )
    assert (failure.resource, failure.resource_id, failure.error_code) == ("download", 12, 201)
    assert isinstance(failure, HeyWatchError)
    assert str(HeyWatchRemoteFailure("job", 7)) == "job 7 failed: no error code"


def test_remote_failure_hides_credentials_in_error_msg():
    failure = HeyWatchRemoteFailure("job", 3, 100, "upload to ftp://bob:hunter22@ftp.site.com/x failed")
    assert "hunter22" not in str(failure)
    assert "ftp://bob:***@ftp.site.com/x" in str(failure)
    assert "hunter22" not in failure.error_msg


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, HeyWatchBadRequestError),
        (401, HeyWatchAuthError),
        (404, HeyWatchNotFoundError),
        (406, HeyWatchNotAcceptableError),
        (429, HeyWatchRateLimitError),
        (500, HeyWatchServerError),
        (503, HeyWatchServerError),
        (418, HeyWatchAPIError),
    ],
)
def test_api_error_picks_the_class_for_the_status(status, cls):
    error = api_error(status, "msg", method="GET", path="/download/1.json")
    assert type(error) is cls
    assert error.status == status
    assert error.message == "msg"
    assert (error.method, error.path) == ("GET", "/download/1.json")


def test_api_error_texts():
    error = api_error(400, "Url is invalid", method="POST", path="/download.json")
    assert str(error) == "POST /download.json answered HTTP 400: Url is invalid"
    not_found = api_error(404, "", method="GET", path="/job/9.json", resource="job", resource_id=9)
    assert (not_found.resource, not_found.resource_id) == ("job", 9)
    assert str(not_found) == "GET /job/9.json answered HTTP 404 (job 9 not found)"
    assert "login and password" in str(api_error(401, ""))


def test_api_error_masks_credentials_in_server_message():
    error = api_error(400, "bad s3_directive s3://AKIAXX:se/cr+et@bucket/key")
    assert "se/cr+et" not in str(error)
    assert "s3://AKIAXX:***@bucket/key" in error.message


def test_validation_error_names_the_parameter_both_call_styles():
    first = HeyWatchValidationError("url", "url is missing; pass the source URL")
    second = HeyWatchValidationError("is missing; pass it", parameter="url")
    assert isinstance(first, ValueError)
    assert first.parameter == second.parameter == "url"
    assert str(first) == "url is missing; pass the source URL"
    assert str(second) == "url: is missing; pass it"


def test_exceptions_survive_pickling():
    for error in (
        HeyWatchValidationError("format_id", "format_id must be positive"),
        api_error(404, "gone", method="GET", path="/video/1.json", resource="video", resource_id=1),
        api_error(503, "down"),
        HeyWatchRemoteFailure("download", 12, 201, "nope"),
    ):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert str(copy) == str(error)
        assert copy.__dict__ == error.__dict__
