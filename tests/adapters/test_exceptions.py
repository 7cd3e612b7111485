"""The Airflow-facing exceptions: what they subclass, what their messages say, what they hide."""

from __future__ import annotations

import pickle

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_heywatch.api.errors import HeyWatchRemoteFailure
from airflow_heywatch.exceptions import (
    HeyWatchDownloadFailed,
    HeyWatchEventError,
    HeyWatchWaitError,
    HeyWatchWaitTimeout,
)


def test_download_failed_is_a_fail_exception_with_code_meaning_and_message():
    error = HeyWatchDownloadFailed(12, error_code=201, error_msg="GET http://media/x.mp4 answered 404")
    assert isinstance(error, AirflowFailException)
    assert str(error) == (
        "HeyWatch download 12 failed: error 201 (404 Not Found (source URL gave 404)): "
        "GET http://media/x.mp4 answered 404"
    )
    assert (error.download_id, error.error_code, error.resource_id) == (12, 201, 12)
    assert error.meaning == "404 Not Found (source URL gave 404)"


def test_download_failed_for_a_job_and_from_the_classifier_failure():
    failure = HeyWatchRemoteFailure("job", 7, 103, "cannot encode")
    error = HeyWatchDownloadFailed.from_failure(failure, download_id=12)
    assert str(error) == (
        "HeyWatch download 12: job 7 failed: error 103 (This video cannot be encoded in this format): "
        "cannot encode"
    )
    assert (error.resource, error.resource_id) == ("job", 7)


def test_download_failed_without_code_and_with_undocumented_code():
    assert str(HeyWatchDownloadFailed(3)) == "HeyWatch download 3 failed: no error code"
    assert "undocumented error code 999" in str(HeyWatchDownloadFailed(3, error_code=999))


def test_download_failed_redacts_passwords_and_pickles():
    error = HeyWatchDownloadFailed(5, error_code=202, error_msg="cannot reach ftp://bob:pw@host/x")
    assert "pw@" not in str(error)
    assert "ftp://bob:***@host/x" in str(error)
    clone = pickle.loads(pickle.dumps(error))
    assert str(clone) == str(error)
    assert clone.error_code == 202


def test_other_errors_are_retryable_airflow_exceptions_with_redacted_text():
    for cls in (HeyWatchWaitTimeout, HeyWatchWaitError, HeyWatchEventError):
        error = cls("s3://KEY:sec/ret@bucket/a failed")
        assert isinstance(error, AirflowException)
        assert not isinstance(error, AirflowFailException)
        assert "sec/ret" not in str(error)
