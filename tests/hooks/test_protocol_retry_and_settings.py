"""The shared protocol pieces on their own: retry decisions, Retry-After, connection settings."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from airflow_heywatch.api import protocol
from airflow_heywatch.api.errors import HeyWatchValidationError
from airflow_heywatch.api.protocol import RetryPolicy

GET = protocol.get_download(12, "json")
DELETE = protocol.delete_video(12, "json")
POST = protocol.create_download("http://site.com/a.mp4", {}, "json")


def test_backoff_doubles_and_is_capped_without_jitter():
    policy = RetryPolicy(max_attempts=10, backoff=1.0, max_backoff=5.0, jitter=0)
    delays = [policy.delay_before_retry(GET, attempt, status=503) for attempt in range(1, 10)]
    assert delays == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0]
    assert policy.delay_before_retry(GET, 10, status=503) is None


def test_jitter_is_reproducible_with_a_seed_and_stays_below_the_cap():
    first = RetryPolicy(max_attempts=20, backoff=1.0, max_backoff=8.0, jitter=0.5, seed=7)
    second = RetryPolicy(max_attempts=20, backoff=1.0, max_backoff=8.0, jitter=0.5, seed=7)
    a = [first.delay_before_retry(GET, n, error=OSError()) for n in range(1, 15)]
    b = [second.delay_before_retry(GET, n, error=OSError()) for n in range(1, 15)]
    assert a == b
    assert all(d is not None and 0 < d <= 8.0 for d in a)
    assert len(set(a)) > 1


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_get_and_delete_retry_on_5xx_and_429(status):
    policy = RetryPolicy(jitter=0)
    assert policy.delay_before_retry(GET, 1, status=status) == 1.0
    assert policy.delay_before_retry(DELETE, 1, status=status) == 1.0


@pytest.mark.parametrize("status", [400, 401, 403, 404, 406, 422])
def test_client_errors_are_never_retried(status):
    assert RetryPolicy().delay_before_retry(GET, 1, status=status) is None


def test_post_retries_only_when_never_sent():
    policy = RetryPolicy(jitter=0)
    assert policy.delay_before_retry(POST, 1, status=503) is None
    assert policy.delay_before_retry(POST, 1, status=429, retry_after=1) is None
    assert policy.delay_before_retry(POST, 1, error=TimeoutError(), sent=True) is None
    assert policy.delay_before_retry(POST, 1, error=ConnectionRefusedError(), sent=False) == 1.0
    assert policy.delay_before_retry(GET, 1, error=TimeoutError(), sent=True) == 1.0


def test_retry_after_replaces_the_backoff_and_is_capped():
    policy = RetryPolicy(backoff=1.0, max_backoff=30.0, jitter=0)
    assert policy.delay_before_retry(GET, 1, status=429, retry_after=7) == 7
    assert policy.delay_before_retry(GET, 1, status=503, retry_after=3600) == 30.0


def test_parse_retry_after():
    now = datetime(2011, 2, 10, 11, 10, 46, tzinfo=timezone.utc)
    assert protocol.parse_retry_after("120") == 120
    assert (
        protocol.parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now=now) == 90
    )
    assert protocol.parse_retry_after(format_datetime(now - timedelta(seconds=90), usegmt=True), now=now) == 0
    assert protocol.parse_retry_after("soon") is None
    assert protocol.parse_retry_after(None) is None


@pytest.mark.parametrize("bad", [{"max_attempts": 0}, {"backoff": -1}, {"jitter": 2}])
def test_bad_policy_is_refused(bad):
    with pytest.raises(HeyWatchValidationError):
        RetryPolicy(**bad)


@pytest.mark.parametrize(
    ("host", "schema", "port", "expected"),
    [
        (None, None, None, "https://heywatch.com"),
        ("", "", None, "https://heywatch.com"),
        ("https://heywatch.com/", None, None, "https://heywatch.com"),
        ("http://127.0.0.1:8080", None, None, "http://127.0.0.1:8080"),
        ("http://127.0.0.1", None, 8080, "http://127.0.0.1:8080"),
        ("127.0.0.1", "http", 8080, "http://127.0.0.1:8080"),
        ("heywatch.com", None, None, "https://heywatch.com"),
        ("example.org/heywatch", "https", 8443, "https://example.org:8443/heywatch"),
    ],
)
def test_base_url(host, schema, port, expected):
    assert protocol.build_base_url(host, schema, port) == expected


@pytest.mark.parametrize(
    ("host", "schema", "parameter"),
    [
        ("ftp://heywatch.com", None, "host"),
        ("https://u:p@heywatch.com", None, "host"),
        ("heywatch.com", "gopher", "schema"),
    ],
)
def test_bad_base_url(host, schema, parameter):
    with pytest.raises(HeyWatchValidationError) as info:
        protocol.build_base_url(host, schema)
    assert info.value.parameter == parameter
    assert "u:p@" not in str(info.value)


def test_connection_settings_from_extras():
    settings = protocol.connection_settings(
        "http://127.0.0.1:9", None, None, {"format": "XML", "timeout": "2.5", "verify": "false", "x": 1}
    )
    assert settings == protocol.ConnectionSettings("http://127.0.0.1:9", "xml", 2.5, False)
    legacy = protocol.connection_settings(None, None, None, {"extra__heywatch__format": "xml"})
    assert legacy.fmt == "xml"
    assert protocol.connection_settings(None, None, None, None) == protocol.ConnectionSettings(
        "https://heywatch.com", "json", 30.0, True
    )


def test_request_building():
    request = protocol.get_encoded_video("7873875", "xml")
    assert (request.method, request.path, request.resource, request.resource_id) == (
        "GET",
        "/encoded_video/7873875.xml",
        "encoded_video",
        7873875,
    )
    assert request.headers == {"Accept": "application/xml", "User-Agent": protocol.USER_AGENT}
    assert protocol.USER_AGENT.startswith("airflow-heywatch/")
    with pytest.raises(HeyWatchValidationError, match="format"):
        protocol.list_jobs("yaml")
    with pytest.raises(HeyWatchValidationError, match="url"):
        protocol.create_download("http://a.com/x", {"url": "http://b.com/y"}, "json")
