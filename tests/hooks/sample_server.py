"""A small HeyWatch v1 server for the hook tests: the sample responses over real HTTP.

It listens on 127.0.0.1 (free port), checks Basic auth, answers ``/resource[/id].json`` with the
sample files and ``.xml`` with the same data as Rails ``to_xml`` (typed elements, ``nil="true"``),
records every request it receives, and can be told to misbehave for the next N requests
(:meth:`SampleServer.fail_next`).
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from airflow_heywatch.api.protocol import RetryPolicy

SAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "samples"

LOGIN = "sample-user"
PASSWORD = "s3cr3t-Pa55word"
#: The Basic-auth token a hook must send for LOGIN / PASSWORD.
TOKEN = base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()


def _sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


ACCOUNT = {
    "created_at": "2011-01-10T09:12:05+01:00",
    "updated_at": "2011-06-15T12:13:13+02:00",
    "login": LOGIN,
    "email": "sample@example.com",
    "firstname": "Sample",
    "lastname": "User",
    "upload_key": "d1f5b3c2e4",
    "io": 75162934,
    "default_format": 31,
    "automatic_encode": False,
}


def resources() -> dict[str, dict[str, Any]]:
    """Per resource: the list and the objects by id, straight from the sample files."""
    downloads = _sample("download_list_devdocs.json")
    videos = _sample("video_list_devdocs.json")
    jobs = _sample("job_list_devdocs.json")
    encoded = _sample("encoded_video_list_devdocs.json")
    formats = _sample("format_list_devdocs.json")
    return {
        "download": {"list": downloads, "show": {3928279: _sample("download_show_devdocs.json")}},
        "video": {"list": videos, "show": {7863245: _sample("video_show_devdocs.json")}},
        "job": {"list": jobs, "show": {job["id"]: job for job in jobs}},
        "encoded_video": {
            "list": encoded,
            "show": {7873875: _sample("encoded_video_show_devdocs_unindented.json")},
        },
        "format": {"list": formats, "show": {1086: _sample("format_show_devdocs.json")}},
    }


# Rails to_xml ---------------------------------------------------------------------------------

_LIST_ROOT = {"download": "downloads", "video": "videos", "job": "jobs", "encoded_video": "encoded-videos"}
_ITEM = {"format": "format-specs", "encoded_video": "encoded-video"}


def _element(name: str, value: Any) -> str:
    tag = name.replace("_", "-")
    if value is None:
        return f'<{tag} nil="true"/>'
    if isinstance(value, bool):
        return f'<{tag} type="boolean">{"true" if value else "false"}</{tag}>'
    if isinstance(value, int):
        return f'<{tag} type="integer">{value}</{tag}>'
    if isinstance(value, float):
        return f'<{tag} type="float">{value!r}</{tag}>'
    if isinstance(value, dict):
        return f"<{tag}>{''.join(_element(k, v) for k, v in value.items())}</{tag}>"
    if name.endswith("_at"):
        return f'<{tag} type="datetime">{escape(value)}</{tag}>'
    return f"<{tag}>{escape(str(value))}</{tag}>"


def to_rails_xml(resource: str, data: Any) -> bytes:
    item = _ITEM.get(resource, resource.replace("_", "-"))
    if resource == "account":
        body = f"<account>{_element('user', data)}</account>"
    elif isinstance(data, list):
        root = _LIST_ROOT.get(resource, "formats")
        body = f'<{root} type="array">{"".join(_element(item, obj) for obj in data)}</{root}>'
    else:
        body = _element(item, data)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode()


# Server ---------------------------------------------------------------------------------------


@dataclass
class Fault:
    kind: str  # "status", "garbage", "drop" or "hang"
    status: int = 500
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]
    body: bytes
    connection: int


_PATH = re.compile(r"^/(account|download|video|job|encoded_video|format)(?:/(\d+))?\.(json|xml)$")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def _handle(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        form = dict(parse_qsl(body.decode(), keep_blank_values=True)) if body else {}
        with owner.lock:
            owner.requests.append(
                Received(self.command, self.path, dict(self.headers.items()), form, body, id(self.connection))
            )
            fault = owner.faults.popleft() if owner.faults else None
        match = _PATH.match(self.path.split("?", 1)[0])
        fmt = match.group(3) if match else "json"
        if fault is not None:
            if fault.kind == "hang":
                time.sleep(owner.hang_seconds)
                fault = Fault("drop")
            if fault.kind == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault.kind == "garbage":
                self._send(200, b"<html><body>Bad Gateway, maybe</body></html>\x00{", "text/html")
                return
            self._send(fault.status, fault.body, _content_type(fmt), fault.headers)
            return
        if not self._authorised():
            self._send(401, b"", "text/plain", {"WWW-Authenticate": 'Basic realm="Web Password"'})
            return
        if match is None:
            self._send(404, b"", "text/plain")
            return
        resource, ident, fmt = match.group(1), match.group(2), match.group(3)
        status, data = owner.route(self.command, resource, int(ident) if ident else None, form)
        if status == 204:
            self._send(204, b"", None)
        elif status >= 400:
            message = data or ""
            if fmt == "json":
                payload = json.dumps({"message": message}).encode() if message else b""
            else:
                payload = f'<message status="fail">{escape(message)}</message>'.encode() if message else b""
            self._send(status, payload, _content_type(fmt))
        else:
            payload = json.dumps(data).encode() if fmt == "json" else to_rails_xml(resource, data)
            self._send(status, payload, _content_type(fmt))

    def _authorised(self) -> bool:
        expected = base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()
        return self.headers.get("Authorization") == f"Basic {expected}"

    def _send(
        self, status: int, body: bytes, ctype: str | None, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        if ctype and body:
            self.send_header("Content-Type", ctype)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)


def _content_type(fmt: str) -> str:
    return "application/json; charset=utf-8" if fmt == "json" else "application/xml; charset=utf-8"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: SampleServer


class SampleServer:
    """The server; use as a context manager or call :meth:`start` / :meth:`stop`."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.lock = threading.Lock()
        self.requests: list[Received] = []
        self.faults: deque[Fault] = deque()
        self.data = resources()
        self.hang_seconds = 2.0
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SampleServer:
        self._httpd = _HTTPServer(("127.0.0.1", self.port), _Handler)
        self._httpd.owner = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="sample-heywatch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> SampleServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail_next(
        self,
        n: int = 1,
        *,
        kind: str = "status",
        status: int = 500,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``n`` requests with a fault instead of the normal answer.

        ``kind``: ``"status"`` (``status`` with ``body`` and ``headers``), ``"garbage"`` (200 with
        a body that is neither JSON nor XML), ``"drop"`` (close the connection after reading
        the request, without answering) or ``"hang"`` (say nothing for ``hang_seconds``, then drop).
        """
        with self.lock:
            for _ in range(n):
                self.faults.append(Fault(kind, status, body, dict(headers or {})))

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()
            self.faults.clear()

    def route(self, method: str, resource: str, ident: int | None, form: dict[str, str]) -> tuple[int, Any]:
        if resource == "account":
            return (200, ACCOUNT) if method == "GET" and ident is None else (404, "")
        table = self.data[resource]
        if method == "GET":
            if ident is None:
                return 200, table["list"]
            if ident in table["show"]:
                return 200, table["show"][ident]
            return 404, ""
        if method == "DELETE" and ident is not None:
            return (204, None) if ident in table["show"] else (404, "")
        if method == "POST" and ident is None:
            return self._create(resource, form)
        return 404, ""

    def _create(self, resource: str, form: dict[str, str]) -> tuple[int, Any]:
        if resource == "download":
            url = form.get("url", "")
            if not url:
                return 400, "No URL submitted."
            if not re.match(r"^(https?|ftp)://[^/\s]+", url):
                return 400, "Url is invalid"
            return 201, {
                "created_at": "2011-06-15T12:13:13+02:00",
                "error_msg": None,
                "title": form.get("title", ""),
                "video_id": 0,
                "updated_at": "2011-06-15T12:13:13+02:00",
                "url": url,
                "progress": {"current_length": 0, "speed": 0, "percent": 0, "time_left": "??"},
                "id": 3928280,
                "error_code": None,
                "length": 0,
                "status": "pending",
            }
        if resource == "job":
            if not form.get("video_id") or not form.get("format_id"):
                return 400, "video_id and format_id are required"
            return 201, _sample("job_create_ruby_readme.json")
        if resource == "format":
            created = dict(self.data["format"]["show"][1086])
            created.update(id=2001, name=form.get("name", ""), owner=True)
            return 201, created
        return 404, ""


def free_port() -> int:
    """A port with nothing listening on it (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


#: Three attempts, waits of a few milliseconds, no jitter: retry tests stay fast and exact.
FAST = RetryPolicy(max_attempts=3, backoff=0.01, max_backoff=0.05, jitter=0)
