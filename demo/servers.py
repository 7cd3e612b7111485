"""The local servers the demo starts around the emulator, all on 127.0.0.1 and a free port.

- :class:`MediaServer`: serves the source video over HTTP (HeyWatch downloads it from here).
- :class:`FtpServer`: receives the encoded videos (the ``ftp_directive`` destinations).
- :class:`PingReceiver`: records the pings HeyWatch sends after transfer, after encode and on error.

Each runs in a daemon thread of the demo process and is stopped with ``stop()`` (also a context
manager).
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

HOST = "127.0.0.1"


class _Quiet:
    def log_message(self, format: str, *args: Any) -> None:
        """No access log on the console."""


class _ThreadedServer:
    """A stdlib HTTP server in a daemon thread."""

    def __init__(self, handler: Any, name: str) -> None:
        self._httpd = ThreadingHTTPServer((HOST, 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=name, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> _ThreadedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _MediaHandler(_Quiet, SimpleHTTPRequestHandler):
    pass


class MediaServer(_ThreadedServer):
    """Serves the files of ``directory`` at ``http://127.0.0.1:PORT/<name>``."""

    def __init__(self, directory: Path) -> None:
        super().__init__(functools.partial(_MediaHandler, directory=str(directory)), "demo-media-http")

    def url_for(self, name: str) -> str:
        return f"{self.base_url}/{name}"


@dataclass(frozen=True)
class Ping:
    """One request received by the ping receiver."""

    path: str
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """The last path segment: ``transfer``, ``encode`` or ``error`` for the example DAGs."""
        return self.path.rstrip("/").rsplit("/", 1)[-1]


class PingReceiver(_ThreadedServer):
    """Answers 200 to every POST (or GET) and records its path and form or query fields."""

    def __init__(self) -> None:
        self.pings: list[Ping] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(_Quiet, BaseHTTPRequestHandler):
            def _record(self, body: bytes) -> None:
                parts = urlsplit(self.path)
                fields = dict(parse_qsl(parts.query, keep_blank_values=True))
                content_type = self.headers.get("Content-Type", "")
                if body and "application/x-www-form-urlencoded" in content_type:
                    fields.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
                with receiver._lock:
                    receiver.pings.append(Ping(path=parts.path, fields=fields))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._record(self.rfile.read(length) if length else b"")

            def do_GET(self) -> None:
                self._record(b"")

        super().__init__(Handler, "demo-ping-receiver")

    def received(self) -> list[Ping]:
        with self._lock:
            return list(self.pings)


class FtpServer:
    """A pyftpdlib server with one user whose home is ``root``."""

    def __init__(self, root: Path, login: str, password: str) -> None:
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import FTPHandler
        from pyftpdlib.servers import FTPServer

        ftp_log = logging.getLogger("pyftpdlib")
        if not ftp_log.handlers:  # otherwise pyftpdlib logs every command to stderr
            ftp_log.addHandler(logging.NullHandler())
            ftp_log.propagate = False
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.login = login
        self.password = password
        authorizer = DummyAuthorizer()
        authorizer.add_user(login, password, str(root), perm="elradfmwMT")
        handler = type("DemoFTPHandler", (FTPHandler,), {"authorizer": authorizer, "banner": "demo ftp"})
        handler.masquerade_address = None
        self._server = FTPServer((HOST, 0), handler)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="demo-ftp", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        # pyftpdlib's loop is not thread-safe: run it in slices and close it from this thread.
        try:
            while not self._stopping.is_set():
                self._server.serve_forever(timeout=0.1, blocking=False, handle_exit=False)
        finally:
            self._server.close_all()

    @property
    def port(self) -> int:
        return int(self._server.address[1])

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

    def __enter__(self) -> FtpServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
