"""Fetch a source video over HTTP(S) (aiohttp) or FTP (ftplib, in a thread), streaming to disk.

Failures raise :class:`TransferError` with the documented code: 201 when the source answers
"not found", 202 when the address cannot be reached. Messages never contain credentials.
"""

from __future__ import annotations

import asyncio
import ftplib
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiohttp

__all__ = ["Throttle", "TransferError", "fetch"]

ProgressCallback = Callable[[int, "int | None"], None]

_CHUNK = 64 * 1024


class TransferError(Exception):
    """A failed transfer; ``error_code`` is 201 (source not found) or 202 (bad address)."""

    def __init__(self, error_code: int, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message


class Throttle:
    """Keep a transfer at or below ``rate`` kilobytes per second (``None``: no limit)."""

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self.started = time.monotonic()

    @property
    def chunk_size(self) -> int:
        if not self.rate:
            return _CHUNK
        return max(1024, min(_CHUNK, int(self.rate * 1024 / 10)))

    def delay(self, received: int) -> float:
        """Seconds to wait before reading more, after ``received`` bytes."""
        if not self.rate:
            return 0.0
        due = received / (self.rate * 1024)
        return max(0.0, due - (time.monotonic() - self.started))


def _where(url: str) -> str:
    """The URL without credentials, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


async def fetch(
    url: str,
    dest: Path,
    *,
    session: aiohttp.ClientSession,
    rate: float | None,
    timeout: float,
    on_progress: ProgressCallback,
    cancelled: threading.Event,
) -> int:
    """Stream ``url`` to ``dest``; returns the number of bytes written."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("http", "https"):
        return await _fetch_http(url, dest, session, Throttle(rate), timeout, on_progress)
    if scheme == "ftp":
        loop = asyncio.get_running_loop()

        def report(received: int, total: int | None) -> None:
            loop.call_soon_threadsafe(on_progress, received, total)

        return await asyncio.to_thread(_fetch_ftp, url, dest, Throttle(rate), timeout, report, cancelled)
    raise TransferError(202, f"Bad address: unsupported scheme {scheme!r}")


async def _fetch_http(
    url: str,
    dest: Path,
    session: aiohttp.ClientSession,
    throttle: Throttle,
    timeout: float,
    on_progress: ProgressCallback,
) -> int:
    client_timeout = aiohttp.ClientTimeout(total=None, connect=timeout, sock_read=timeout)
    received = 0
    try:
        async with session.get(url, timeout=client_timeout, allow_redirects=True) as response:
            if response.status == 404:
                raise TransferError(201, f"no file at {_where(url)}")
            if response.status >= 400:
                raise TransferError(202, f"Bad address: {_where(url)} answered HTTP {response.status}")
            total = response.content_length
            on_progress(0, total)
            with dest.open("wb") as out:
                async for chunk in response.content.iter_chunked(throttle.chunk_size):
                    out.write(chunk)
                    received += len(chunk)
                    pause = throttle.delay(received)
                    if pause:
                        await asyncio.sleep(pause)
                    on_progress(received, total)
    except TransferError:
        raise
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as exc:
        reason = type(exc).__name__
        raise TransferError(202, f"Bad address: cannot fetch {_where(url)} ({reason})") from None
    return received


def _fetch_ftp(
    url: str,
    dest: Path,
    throttle: Throttle,
    timeout: float,
    report: ProgressCallback,
    cancelled: threading.Event,
) -> int:
    parts = urlsplit(url)
    received = 0
    try:
        with ftplib.FTP() as ftp:
            ftp.connect(parts.hostname or "", parts.port or 21, timeout=timeout)
            ftp.login(unquote(parts.username or "anonymous"), unquote(parts.password or "anonymous@"))
            path = unquote(parts.path)
            try:
                ftp.voidcmd("TYPE I")
                total: int | None = ftp.size(path)
            except ftplib.error_perm as exc:
                if str(exc).startswith("550"):
                    raise TransferError(201, f"no file at {_where(url)}") from None
                total = None
            report(0, total)
            with dest.open("wb") as out:

                def write(chunk: bytes) -> None:
                    nonlocal received
                    if cancelled.is_set():
                        raise TransferError(100, "Transfer cancelled")
                    out.write(chunk)
                    received += len(chunk)
                    pause = throttle.delay(received)
                    if pause:
                        time.sleep(pause)
                    report(received, total)

                ftp.retrbinary(f"RETR {path}", write, blocksize=throttle.chunk_size)
    except TransferError:
        raise
    except ftplib.error_perm as exc:
        code = str(exc)[:3]
        if code == "550":
            raise TransferError(201, f"no file at {_where(url)}") from None
        raise TransferError(202, f"Bad address: FTP server refused ({code}) at {_where(url)}") from None
    except (ftplib.Error, OSError, EOFError) as exc:
        reason = type(exc).__name__
        raise TransferError(202, f"Bad address: cannot fetch {_where(url)} ({reason})") from None
    return received
