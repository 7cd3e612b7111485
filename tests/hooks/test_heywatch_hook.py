"""HeyWatchHook against a real HTTP server on 127.0.0.1 that serves the sample responses."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest

from airflow_heywatch import __version__
from airflow_heywatch.api.errors import (
    HeyWatchAuthError,
    HeyWatchBadRequestError,
    HeyWatchDecodeError,
    HeyWatchNotAcceptableError,
    HeyWatchNotFoundError,
    HeyWatchRateLimitError,
    HeyWatchServerError,
    HeyWatchTransportError,
    HeyWatchValidationError,
)
from airflow_heywatch.api.protocol import RetryPolicy
from airflow_heywatch.hooks.heywatch import HeyWatchHook
from hooks.sample_server import FAST, LOGIN, PASSWORD, SAMPLES, TOKEN, SampleServer, free_port


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


@pytest.fixture(params=["json", "xml"])
def fmt(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def hook(server: SampleServer, make_conn, fmt: str):
    with HeyWatchHook(make_conn(host=server.url, format=fmt), retry_policy=FAST) as h:
        yield h


# Every call on the wire ------------------------------------------------------------------------

WIRE = [
    ("get_account", (), {}, "GET", "/account", {}),
    ("list_downloads", (), {}, "GET", "/download", {}),
    ("get_download", (3928279,), {}, "GET", "/download/3928279", {}),
    (
        "create_download",
        ("http://site.com/videos/2134213DSFzfez324.bin",),
        {
            "title": "2134213DSFzfez324",
            "ping_url_after_transfer": "http://mysite.com/heywatch/ping/transfer.php",
            "ping_url_if_error": "http://mysite.com/heywatch/ping/error.php",
            "automatic_encode": True,
            "format_id": [31, 175],
            "ftp_directive": ["ftp://u:p@host.com/videos/flv", "ftp://u:p@host.com/videos/mp4"],
            "max_length": 600,
            "nvid": "abc",
        },
        "POST",
        "/download",
        {
            "url": "http://site.com/videos/2134213DSFzfez324.bin",
            "title": "2134213DSFzfez324",
            "ping_url_after_transfer": "http://mysite.com/heywatch/ping/transfer.php",
            "ping_url_if_error": "http://mysite.com/heywatch/ping/error.php",
            "automatic_encode": "true",
            "format_id": "31,175",
            "ftp_directive": "ftp://u:p@host.com/videos/flv,ftp://u:p@host.com/videos/mp4",
            "max_length": "600",
            "nvid": "abc",
        },
    ),
    ("delete_download", (3928279,), {}, "DELETE", "/download/3928279", {}),
    ("list_videos", (), {}, "GET", "/video", {}),
    ("get_video", ("7863245",), {}, "GET", "/video/7863245", {}),
    ("delete_video", (7863245,), {}, "DELETE", "/video/7863245", {}),
    ("list_jobs", (), {}, "GET", "/job", {}),
    ("get_job", (4888504,), {}, "GET", "/job/4888504", {}),
    (
        "create_job",
        (9662090, 31),
        {
            "s3_directive": "s3://accesskey:secretkey@myvideobucket/flv/123434.flv",
            "ping_url_after_encode": "http://yoursite.com/ping/heywatch?postid=123434",
            "keep_video_size": True,
        },
        "POST",
        "/job",
        {
            "video_id": "9662090",
            "format_id": "31",
            "s3_directive": "s3://accesskey:secretkey@myvideobucket/flv/123434.flv",
            "ping_url_after_encode": "http://yoursite.com/ping/heywatch?postid=123434",
            "keep_video_size": "true",
        },
    ),
    ("cancel_job", (4888504,), {}, "DELETE", "/job/4888504", {}),
    ("list_encoded_videos", (), {}, "GET", "/encoded_video", {}),
    ("get_encoded_video", (7873875,), {}, "GET", "/encoded_video/7873875", {}),
    ("delete_encoded_video", (7873875,), {}, "DELETE", "/encoded_video/7873875", {}),
    ("list_formats", (), {}, "GET", "/format", {}),
    ("get_format", (1086,), {}, "GET", "/format/1086", {}),
    (
        "create_format",
        (),
        {"name": "iPad", "category": "devices", "container": "mp4", "fps": 30, "two_pass": False},
        "POST",
        "/format",
        {"name": "iPad", "category": "devices", "container": "mp4", "fps": "30", "two_pass": "false"},
    ),
]


@pytest.mark.parametrize(("name", "args", "kwargs", "method", "path", "form"), WIRE, ids=[w[0] for w in WIRE])
def test_every_method_on_the_wire(hook, server, fmt, name, args, kwargs, method, path, form):
    getattr(hook, name)(*args, **kwargs)

    assert len(server.requests) == 1
    received = server.requests[0]
    assert (received.method, received.path, received.form) == (method, f"{path}.{fmt}", form)
    headers = {k.lower(): v for k, v in received.headers.items()}
    assert headers["accept"] == {"json": "application/json", "xml": "application/xml"}[fmt]
    assert headers["user-agent"] == f"airflow-heywatch/{__version__}"
    assert headers["authorization"] == f"Basic {TOKEN}"
    if method == "POST":
        assert headers["content-type"] == "application/x-www-form-urlencoded"


def test_no_extra_becomes_a_header(server, make_conn):
    conn_id = make_conn(host=server.url, format="xml", timeout=12, verify=False, custom_thing="x")
    with HeyWatchHook(conn_id) as hook:
        hook.get_account()
    sent = {k.lower() for k in server.requests[0].headers}
    assert not sent & {"format", "timeout", "verify", "custom_thing"}
    assert sent <= {"host", "user-agent", "accept-encoding", "accept", "connection", "authorization"}


# Results ---------------------------------------------------------------------------------------

READS = [
    ("get_account", ()),
    ("list_downloads", ()),
    ("get_download", (3928279,)),
    ("list_videos", ()),
    ("get_video", (7863245,)),
    ("list_jobs", ()),
    ("get_job", (4888509,)),
    ("list_encoded_videos", ()),
    ("get_encoded_video", (7873875,)),
    ("list_formats", ()),
    ("get_format", (1086,)),
]


def test_json_results_are_the_sample_files(server, make_conn):
    with HeyWatchHook(make_conn(host=server.url)) as hook:
        assert hook.list_downloads() == sample("download_list_devdocs.json")
        assert hook.get_download(3928279) == sample("download_show_devdocs.json")
        assert hook.list_videos() == sample("video_list_devdocs.json")
        assert hook.get_video(7863245) == sample("video_show_devdocs.json")
        assert hook.list_jobs() == sample("job_list_devdocs.json")
        assert hook.list_encoded_videos() == sample("encoded_video_list_devdocs.json")
        assert hook.get_encoded_video(7873875) == sample("encoded_video_show_devdocs_unindented.json")
        assert hook.list_formats() == sample("format_list_devdocs.json")
        assert hook.get_format(1086) == sample("format_show_devdocs.json")
        assert hook.create_job(9662090, 31) == sample("job_create_ruby_readme.json")
        assert hook.delete_video(7863245) is None


@pytest.mark.parametrize(("name", "args"), READS)
def test_json_and_xml_connections_return_identical_results(server, make_conn, name, args):
    with (
        HeyWatchHook(make_conn("hw_json", host=server.url, format="json")) as as_json,
        HeyWatchHook(make_conn("hw_xml", host=server.url, format="xml")) as as_xml,
    ):
        from_json = getattr(as_json, name)(*args)
        from_xml = getattr(as_xml, name)(*args)
    assert from_json
    assert from_xml == from_json
    assert [r.path.rsplit(".", 1)[1] for r in server.requests] == ["json", "xml"]


def test_created_objects_are_identical_in_json_and_xml(server, make_conn):
    with (
        HeyWatchHook(make_conn("hw_json", host=server.url, format="json")) as as_json,
        HeyWatchHook(make_conn("hw_xml", host=server.url, format="xml")) as as_xml,
    ):
        for hook_call in (
            lambda h: h.create_download("http://site.com/a.mp4", title="a"),
            lambda h: h.create_job(9662090, 31),
        ):
            assert hook_call(as_xml) == hook_call(as_json)


# Retries -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 500},
        {"status": 503},
        {"status": 429, "headers": {"Retry-After": "0"}},
        {"kind": "drop"},
    ],
    ids=["500", "503", "429", "drop"],
)
def test_get_is_retried_then_succeeds(hook, server, fault):
    server.fail_next(2, **fault)
    assert hook.get_download(3928279)["id"] == 3928279
    assert [r.path.split(".")[0] for r in server.requests] == ["/download/3928279"] * 3


def test_delete_is_retried(hook, server):
    server.fail_next(1, status=502)
    assert hook.delete_video(7863245) is None
    assert [r.method for r in server.requests] == ["DELETE", "DELETE"]


def test_get_gives_up_after_max_attempts(hook, server):
    server.fail_next(5, status=500, body=b'{"message":"database on fire"}')
    with pytest.raises(HeyWatchServerError, match="gave up after 3 attempts") as info:
        hook.get_download(3928279)
    assert info.value.status == 500
    assert len(server.requests) == 3


def test_rate_limit_gives_up_with_a_rate_limit_error(hook, server):
    server.fail_next(5, status=429, headers={"Retry-After": "0"})
    with pytest.raises(HeyWatchRateLimitError, match="429"):
        hook.list_jobs()
    assert len(server.requests) == 3


def test_dropped_connections_give_up_with_a_transport_error(hook, server):
    server.fail_next(5, kind="drop")
    with pytest.raises(HeyWatchTransportError, match="after 3 attempt"):
        hook.list_jobs()
    assert len(server.requests) == 3


def test_retry_after_seconds_is_honoured(server, make_conn):
    policy = RetryPolicy(max_attempts=2, backoff=0, max_backoff=5, jitter=0)
    server.fail_next(1, status=429, headers={"Retry-After": "1"})
    with HeyWatchHook(make_conn(host=server.url), retry_policy=policy) as hook:
        started = time.monotonic()
        hook.get_account()
        assert time.monotonic() - started >= 0.95


def test_retry_after_http_date_is_honoured(server, make_conn):
    policy = RetryPolicy(max_attempts=2, backoff=0, max_backoff=5, jitter=0)
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=2), usegmt=True)
    server.fail_next(1, status=503, headers={"Retry-After": when})
    with HeyWatchHook(make_conn(host=server.url), retry_policy=policy) as hook:
        started = time.monotonic()
        hook.get_account()
        assert time.monotonic() - started >= 0.9  # the date has one-second resolution


def test_retry_after_is_capped(server, make_conn):
    policy = RetryPolicy(max_attempts=2, backoff=0, max_backoff=0.2, jitter=0)
    server.fail_next(1, status=429, headers={"Retry-After": "3600"})
    with HeyWatchHook(make_conn(host=server.url), retry_policy=policy) as hook:
        started = time.monotonic()
        hook.get_account()
        assert time.monotonic() - started < 5


def test_timeout_extra_applies_to_every_request(server, make_conn):
    server.hang_seconds = 3
    server.fail_next(2, kind="hang")
    conn_id = make_conn(host=server.url, timeout=0.5)
    with HeyWatchHook(conn_id, retry_policy=RetryPolicy(max_attempts=2, backoff=0, jitter=0)) as hook:
        started = time.monotonic()
        with pytest.raises(HeyWatchTransportError, match="ReadTimeout"):
            hook.get_account()
        assert time.monotonic() - started < 2.5
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    "fault", [{"status": 500}, {"status": 503}, {"kind": "drop"}], ids=["500", "503", "drop"]
)
def test_post_that_reached_the_server_is_not_retried(hook, server, fault):
    server.fail_next(3, **fault)
    with pytest.raises((HeyWatchServerError, HeyWatchTransportError)) as info:
        hook.create_download("http://site.com/a.mp4")
    assert [r.method for r in server.requests] == ["POST"]
    if fault.get("kind") == "drop":
        assert "not retried" in str(info.value)


def test_post_rate_limited_is_not_retried(hook, server):
    server.fail_next(3, status=429, headers={"Retry-After": "0"})
    with pytest.raises(HeyWatchRateLimitError):
        hook.create_job(9662090, 31)
    assert len(server.requests) == 1


def test_post_to_a_closed_port_is_retried_until_the_server_listens(make_conn):
    port = free_port()
    late = SampleServer(port=port)
    starter = threading.Timer(0.5, late.start)
    starter.start()
    try:
        policy = RetryPolicy(max_attempts=30, backoff=0.1, max_backoff=0.1, jitter=0)
        with HeyWatchHook(make_conn(host=f"http://127.0.0.1:{port}"), retry_policy=policy) as hook:
            created = hook.create_download("http://site.com/a.mp4", title="late")
        assert created["title"] == "late"
        assert [r.method for r in late.requests] == ["POST"]
    finally:
        starter.join()
        late.stop()


def test_closed_port_gives_up_with_a_transport_error(make_conn):
    conn_id = make_conn(host=f"http://127.0.0.1:{free_port()}")
    with HeyWatchHook(conn_id, retry_policy=FAST) as hook, pytest.raises(HeyWatchTransportError) as info:
        hook.create_download("http://site.com/a.mp4")
    assert "after 3 attempt(s)" in str(info.value)


# Error answers -----------------------------------------------------------------------------------


def test_wrong_password_is_a_clear_auth_error(server, make_conn):
    with (
        HeyWatchHook(make_conn(host=server.url, password="not-the-password"), retry_policy=FAST) as hook,
        pytest.raises(HeyWatchAuthError) as info,
    ):
        hook.list_downloads()
    text = str(info.value)
    assert "401" in text
    assert "login" in text
    assert "password" in text
    assert "HeyWatch connection" in text
    assert len(server.requests) == 1  # never retried


def test_not_found_names_the_resource_and_id(hook):
    with pytest.raises(HeyWatchNotFoundError) as info:
        hook.get_download(999)
    assert "download 999" in str(info.value)
    assert (info.value.resource, info.value.resource_id) == ("download", 999)


def test_bad_request_carries_the_server_message(hook, server, fmt):
    body = (
        (SAMPLES / "error_400_ruby_readme.json").read_bytes()
        if fmt == "json"
        else b'<message status="fail">Url is invalid</message>'
    )
    server.fail_next(1, status=400, body=body)
    with pytest.raises(HeyWatchBadRequestError, match="Url is invalid"):
        hook.create_download("http://site.com/a.mp4")


def test_server_validation_message_of_a_real_400(hook):
    with pytest.raises(HeyWatchBadRequestError, match="video_id and format_id are required") as info:
        hook.send(
            __import__("airflow_heywatch.api.protocol", fromlist=["x"]).ApiRequest(
                "POST", f"/job.{hook.fmt}", "job", hook.fmt, form={"video_id": "1"}
            )
        )
    assert info.value.status == 400


def test_not_acceptable_explains_the_format_extra(hook, server, fmt):
    server.fail_next(1, status=406)
    with pytest.raises(HeyWatchNotAcceptableError) as info:
        hook.get_account()
    assert "format" in str(info.value)
    assert fmt in str(info.value)


def test_garbage_body_is_a_decode_error(hook, server):
    server.fail_next(1, kind="garbage")
    with pytest.raises(HeyWatchDecodeError):
        hook.get_download(3928279)


# Client-side validation: nothing is sent ---------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "parameter"),
    [
        (lambda h: h.create_download(""), "url"),
        (lambda h: h.create_download("file:///etc/passwd"), "url"),
        (lambda h: h.create_download("not_a_valid_url"), "url"),
        (lambda h: h.get_download("abc"), "download_id"),
        (lambda h: h.get_job(0), "job_id"),
        (lambda h: h.delete_video(True), "video_id"),
        (lambda h: h.create_job(12, None), "format_id"),
        (
            lambda h: h.create_job(12, [31, 175], ftp_directive=["ftp://a/1", "ftp://a/2", "ftp://a/3"]),
            "ftp_directive",
        ),
        (lambda h: h.create_format(container="mp4"), "name"),
    ],
)
def test_bad_input_fails_before_anything_is_sent(hook, server, call, parameter):
    with pytest.raises(HeyWatchValidationError) as info:
        call(hook)
    assert info.value.parameter == parameter
    assert parameter in str(info.value)
    assert server.requests == []


@pytest.mark.parametrize(
    ("extra", "name"),
    [
        ({"format": "yaml"}, "format"),
        ({"timeout": "soon"}, "timeout"),
        ({"timeout": 0}, "timeout"),
        ({"verify": "maybe"}, "verify"),
    ],
)
def test_bad_extras_are_named(server, make_conn, extra, name):
    hook = HeyWatchHook(make_conn(host=server.url, **extra))
    with pytest.raises(HeyWatchValidationError, match=name) as info:
        hook.get_account()
    assert info.value.parameter == name
    assert server.requests == []


# Connection --------------------------------------------------------------------------------------


def test_one_session_serves_every_call(hook, server):
    session = hook.get_conn()
    hook.get_account()
    hook.list_downloads()
    hook.get_download(3928279)
    assert hook.get_conn() is session
    assert len({r.connection for r in server.requests}) == 1  # one kept-alive TCP connection


def test_bare_host_with_schema_and_port(server, make_conn):
    conn_id = make_conn(host="127.0.0.1", schema="http", port=server.port)
    with HeyWatchHook(conn_id) as hook:
        assert hook.base_url == server.url
        assert hook.get_account()["login"] == LOGIN


def test_default_base_url_is_the_public_service(make_conn):
    hook = HeyWatchHook(make_conn(host=""))
    assert hook.base_url == "https://heywatch.com"
    assert hook.download_url("12") == "https://heywatch.com/download/12"


def test_test_connection(server, make_conn):
    ok, message = HeyWatchHook(make_conn("good", host=server.url)).test_connection()
    assert ok, message
    assert LOGIN in message
    ok, message = HeyWatchHook(make_conn("bad", host=server.url, password="wrong-password")).test_connection()
    assert not ok
    assert "401" in message
    assert "password" in message
    assert [r.path for r in server.requests] == ["/account.json", "/account.json"]


def test_test_connection_to_nothing_is_false(make_conn):
    ok, message = HeyWatchHook(make_conn(host=f"http://127.0.0.1:{free_port()}")).test_connection()
    assert not ok
    assert "127.0.0.1" in message


# Secrets -----------------------------------------------------------------------------------------


def test_password_and_authorization_never_logged_nor_in_errors(server, make_conn, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    with HeyWatchHook(make_conn(host=server.url), retry_policy=FAST) as hook:
        server.fail_next(2, status=500)
        server.fail_next(1, kind="drop")
        with pytest.raises(HeyWatchTransportError) as info:
            hook.get_account()
        texts += [str(info.value), repr(info.value), str(info.value.__cause__)]
        server.fail_next(1, status=400, body=b'{"message":"Url is invalid"}')
        with pytest.raises(HeyWatchBadRequestError) as info2:
            hook.create_download("http://site.com/a.mp4")
        texts += [str(info2.value), repr(info2.value)]
    with (
        HeyWatchHook(make_conn("wrong", host=server.url, password="wrong-" + PASSWORD)) as hook,
        pytest.raises(HeyWatchAuthError) as info3,
    ):
        hook.get_account()
    texts += [str(info3.value), repr(info3.value)]
    out, err = capfd.readouterr()
    logged = caplog.text + out + err  # Airflow 3 logs through structlog to the console
    assert "retrying" in logged  # the retries were logged
    everything = logged + "\n".join(texts)
    assert PASSWORD not in everything
    assert TOKEN not in everything
    assert "Authorization" not in everything


def test_password_is_registered_with_the_secrets_masker(server, make_conn):
    from airflow.providers.common.compat.sdk import redact

    with HeyWatchHook(make_conn(host=server.url)) as hook:
        hook.get_account()
    assert PASSWORD not in str(redact(f"the password is {PASSWORD}"))
    assert TOKEN not in str(redact(f"Authorization: Basic {TOKEN}"))


# Connection form -------------------------------------------------------------------------------


def test_ui_field_behaviour_matches_provider_info():
    from airflow_heywatch.get_provider_info import get_provider_info

    declared = get_provider_info()["connection-types"][0]["ui-field-behaviour"]
    behaviour = HeyWatchHook.get_ui_field_behaviour()
    assert behaviour["hidden_fields"] == declared["hidden-fields"]
    assert behaviour["relabeling"]["host"] == "Base URL"
    assert behaviour["placeholders"]["host"] == "https://heywatch.com"


def test_connection_form_widgets_with_or_without_wtforms():
    widgets = HeyWatchHook.get_connection_form_widgets()
    try:
        import wtforms  # noqa: F401
    except ImportError:
        assert widgets == {}
    else:
        assert set(widgets) == {"format", "timeout", "verify"}
