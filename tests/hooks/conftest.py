"""Fixtures of the hook tests: the sample server and connections pointing at it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from hooks.sample_server import LOGIN, PASSWORD, SampleServer


@pytest.fixture
def server() -> Iterator[SampleServer]:
    with SampleServer() as srv:
        yield srv


@pytest.fixture
def make_conn(monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """Define a ``heywatch`` connection in the environment and return its id."""

    def make(
        conn_id: str = "heywatch_test",
        *,
        host: str,
        login: str = LOGIN,
        password: str = PASSWORD,
        schema: str | None = None,
        port: int | None = None,
        **extra: object,
    ) -> str:
        conn: dict[str, object] = {
            "conn_type": "heywatch",
            "host": host,
            "login": login,
            "password": password,
        }
        if schema is not None:
            conn["schema"] = schema
        if port is not None:
            conn["port"] = port
        if extra:
            conn["extra"] = json.dumps(extra)
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        return conn_id

    return make
