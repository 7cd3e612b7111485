"""HeyWatchAsyncHook against the same local sample server as the sync hook."""

from __future__ import annotations

import asyncio

import pytest

from airflow_heywatch.api.errors import (
    HeyWatchAuthError,
    HeyWatchNotFoundError,
    HeyWatchServerError,
    HeyWatchTransportError,
    HeyWatchValidationError,
)
from airflow_heywatch.api.protocol import RetryPolicy
from airflow_heywatch.hooks.heywatch import HeyWatchHook
from airflow_heywatch.hooks.heywatch_async import HeyWatchAsyncHook
from hooks.sample_server import FAST, PASSWORD, TOKEN, SampleServer, free_port

READS = [
    ("get_account", ()),
    ("list_downloads", ()),
    ("get_download", (3928279,)),
    ("list_videos", ()),
    ("get_video", (7863245,)),
    ("list_jobs", ()),
    ("get_job", (4888504,)),
    ("list_encoded_videos", ()),
    ("get_encoded_video", (7873875,)),
    ("list_formats", ()),
    ("get_format", (1086,)),
]


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_same_data_as_the_sync_hook_over_one_session(server: SampleServer, make_conn, fmt):
    conn_id = make_conn(host=server.url, format=fmt)
    with HeyWatchHook(conn_id) as sync_hook:
        expected = {name: getattr(sync_hook, name)(*args) for name, args in READS}
    server.clear()

    async with HeyWatchAsyncHook(conn_id) as hook:
        session = await hook.get_conn()
        got = {name: await getattr(hook, name)(*args) for name, args in READS}
        assert await hook.get_conn() is session
    assert session.closed
    assert got == expected
    assert [(r.method, r.path) for r in server.requests] == [
        ("GET", f"/{name.split('_', 1)[1].rstrip('s')}{'/' + str(args[0]) if args else ''}.{fmt}")
        for name, args in READS
    ]
    assert len({r.connection for r in server.requests}) == 1  # one kept-alive TCP connection
    headers = {k.lower(): v for k, v in server.requests[0].headers.items()}
    assert headers["authorization"] == f"Basic {TOKEN}"
    assert headers["user-agent"].startswith("airflow-heywatch/")
    assert not {"format", "timeout", "verify"} & set(headers)


async def test_polls_reuse_the_session_until_closed(server, make_conn):
    hook = HeyWatchAsyncHook(make_conn(host=server.url))
    for _ in range(3):
        assert (await hook.get_download(3928279))["status"] == "finished"
    session = await hook.get_conn()
    await hook.close()
    assert session.closed
    assert len({r.connection for r in server.requests}) == 1


@pytest.mark.parametrize(
    "fault", [{"status": 500}, {"status": 429, "headers": {"Retry-After": "0"}}, {"kind": "drop"}]
)
async def test_get_is_retried(server, make_conn, fault):
    server.fail_next(2, **fault)
    async with HeyWatchAsyncHook(make_conn(host=server.url), retry_policy=FAST) as hook:
        assert (await hook.get_job(4888504))["id"] == 4888504
    assert len(server.requests) == 3


async def test_gives_up_after_max_attempts(server, make_conn):
    server.fail_next(5, status=503)
    async with HeyWatchAsyncHook(make_conn(host=server.url), retry_policy=FAST) as hook:
        with pytest.raises(HeyWatchServerError, match="gave up after 3 attempts"):
            await hook.list_downloads()
    assert len(server.requests) == 3


async def test_retry_waits_do_not_block_the_loop(server, make_conn):
    server.fail_next(1, status=429, headers={"Retry-After": "1"})
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        policy = RetryPolicy(max_attempts=2, backoff=0, max_backoff=5, jitter=0)
        async with HeyWatchAsyncHook(make_conn(host=server.url), retry_policy=policy) as hook:
            await hook.get_account()
    finally:
        task.cancel()
    assert ticks >= 10  # the loop kept running during the one-second Retry-After


async def test_errors(server, make_conn):
    async with HeyWatchAsyncHook(make_conn(host=server.url), retry_policy=FAST) as hook:
        with pytest.raises(HeyWatchNotFoundError, match="download 42"):
            await hook.get_download(42)
        with pytest.raises(HeyWatchValidationError, match="job_id"):
            await hook.get_job("x")
    async with HeyWatchAsyncHook(make_conn("bad", host=server.url, password="wrong-password")) as hook:
        with pytest.raises(HeyWatchAuthError, match="password") as info:
            await hook.get_account()
    assert PASSWORD not in str(info.value)
    assert [r.path for r in server.requests] == ["/download/42.json", "/account.json"]


async def test_closed_port_gives_up_with_a_transport_error(make_conn):
    async with HeyWatchAsyncHook(
        make_conn(host=f"http://127.0.0.1:{free_port()}"), retry_policy=FAST
    ) as hook:
        with pytest.raises(HeyWatchTransportError, match="after 3 attempt") as info:
            await hook.get_account()
    assert PASSWORD not in str(info.value)
