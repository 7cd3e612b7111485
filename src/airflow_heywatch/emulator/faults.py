"""Fault injection: make the next N matching API requests misbehave (opt-in, for client tests).

A fault matches on method (optional) and path prefix (``/download`` matches ``/download.json``
and ``/download/12.xml``). Kinds:

- ``status``: answer ``status`` (default 503) with optional ``headers`` (e.g. ``Retry-After``) and
  ``body`` (sent as is; default: the usual error body ``{"message": …}`` / ``<message status="fail">``);
- ``delay``: wait ``delay`` seconds, then answer normally;
- ``malformed``: answer ``status`` (default 200) with a truncated JSON/XML body;
- ``html``: answer ``status`` (default 502) with an HTML error page;
- ``drop``: close the connection without answering (the request is not processed);
- ``drop_after_create``: process the request (e.g. create the download), then close the
  connection instead of sending the answer.

The control endpoints live under ``/_emulator/`` and only answer clients on the loopback interface.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web

from airflow_heywatch.api.serialize import error_json, error_xml
from airflow_heywatch.emulator.negotiate import API_PATH, choose

__all__ = ["KINDS", "Fault", "FaultBook", "fault_middleware"]

KINDS = ("status", "delay", "malformed", "html", "drop", "drop_after_create")
_DEFAULT_STATUS = {"status": 503, "malformed": 200, "html": 502}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Fault:
    """One injected fault; ``remaining`` is ``None`` for "until cleared"."""

    id: int
    kind: str
    path: str = "/"
    method: str | None = None
    remaining: int | None = 1
    status: int | None = None
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method != method.upper():
            return False
        return path.startswith(self.path)

    def public(self) -> dict[str, Any]:
        return asdict(self)


class FaultBook:
    """The active faults, consumed in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, spec: Mapping[str, Any]) -> Fault:
        """Add a fault from a JSON or form spec; ``ValueError`` names the bad field."""
        kind = str(spec.get("kind", ""))
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        path = str(spec.get("path") or "/")
        if not path.startswith("/"):
            raise ValueError("path must start with / (a prefix of the request path, e.g. /download)")
        method = str(spec["method"]).upper() if spec.get("method") else None
        count = spec.get("count", 1)
        try:
            remaining = None if count in (None, "", "always", 0, "0") else int(count)
            status = (
                int(spec["status"]) if spec.get("status") not in (None, "") else _DEFAULT_STATUS.get(kind)
            )
            delay = float(spec.get("delay") or 0)
        except (TypeError, ValueError):
            raise ValueError("count, status and delay must be numbers") from None
        if remaining is not None and remaining < 0:
            raise ValueError("count must be positive (or 0 / always for every request)")
        if status is not None and not 100 <= status <= 599:
            raise ValueError("status must be an HTTP status code (100-599)")
        if kind == "delay" and delay <= 0:
            raise ValueError("delay must be a positive number of seconds for kind=delay")
        headers = spec.get("headers") or {}
        if not isinstance(headers, Mapping):
            raise ValueError("headers must be an object of header names to values")
        headers = {str(k): str(v) for k, v in headers.items()}
        if spec.get("retry_after") not in (None, ""):
            headers["Retry-After"] = str(spec["retry_after"])
        body = spec.get("body")
        fault = Fault(
            id=next(self._ids),
            kind=kind,
            path=path,
            method=method,
            remaining=remaining,
            status=status,
            delay=delay,
            headers=headers,
            body=None if body is None else str(body),
        )
        self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault matching the request (one use consumed), or ``None``."""
        for fault in self._faults:
            if fault.matches(method, path):
                fault.hits += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self._faults.clear()

    def list(self) -> list[dict[str, Any]]:
        return [f.public() for f in self._faults]


def _representation(request: web.Request) -> str:
    match = API_PATH.match(request.path)
    chosen = choose(match["ext"] if match else None, request.query, request.headers.get("Accept"))
    return "xml" if chosen == "xml" else "json"


def _drop(request: web.Request) -> web.Response:
    transport = request.transport
    if transport is not None:
        transport.abort()
    return web.Response(status=499)


def _fault_response(request: web.Request, fault: Fault) -> web.Response:
    xml = _representation(request) == "xml"
    status = fault.status or 503
    if fault.kind == "html":
        body = fault.body or (
            f"<!DOCTYPE html>\n<html><head><title>{status} Error</title></head>"
            f"<body><h1>{status} Error</h1><p>The upstream server is unavailable.</p></body></html>"
        )
        return web.Response(status=status, text=body, content_type="text/html", headers=fault.headers)
    if fault.kind == "malformed":
        body = fault.body or ("<download><id>1</id><status>fin" if xml else '{"id": 1, "status": "fin')
        content_type = "application/xml" if xml else "application/json"
        return web.Response(status=status, text=body, content_type=content_type, headers=fault.headers)
    if fault.body is not None:
        payload = fault.body.encode()
    else:
        message = f"Injected fault: HTTP {status}"
        payload = error_xml(message) if xml else error_json(message)
    return web.Response(
        status=status,
        body=payload if status not in (204, 304) else None,
        content_type="application/xml" if xml else "application/json",
        headers=fault.headers,
    )


def fault_middleware(book_of: Callable[[web.Request], FaultBook]) -> Any:
    """aiohttp middleware applying the faults of ``book_of(request)`` to API requests."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/_emulator/"):
            return await handler(request)
        fault = book_of(request).take(request.method, request.path)
        if fault is None:
            return await handler(request)
        if fault.kind == "delay":
            await asyncio.sleep(fault.delay)
            return await handler(request)
        if fault.kind == "drop":
            return _drop(request)
        if fault.kind == "drop_after_create":
            await handler(request)
            return _drop(request)
        return _fault_response(request, fault)

    return middleware
