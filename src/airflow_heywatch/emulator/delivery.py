"""Deliver an encoded video to its directives: FTP (ftplib), S3 (boto3), HTTP upload (aiohttp).

Where the file lands: a directive path that is empty or ends with ``/`` is a folder, and so is a
last path segment without a dot (``/videos/flv``); the encoded file keeps its own name there. A
last segment with a dot (``/videos/flv/clip.flv``, ``s3://…@bucket/web/123.mp4``) is the full
target name. Failures raise :class:`DeliveryError` whose message never contains credentials.
"""

from __future__ import annotations

import asyncio
import ftplib
from collections.abc import Mapping
from pathlib import Path

import aiohttp

from airflow_heywatch.api.redact import directive_secrets, redact_text
from airflow_heywatch.emulator.params import Directive, parse_directive

__all__ = ["DeliveryError", "deliver_ftp", "deliver_http", "deliver_s3", "target_path"]


class DeliveryError(Exception):
    """A delivery that failed; the message names the destination without its credentials."""


def target_path(path: str, filename: str) -> str:
    """Where ``filename`` goes for a directive ``path`` (see the module docstring)."""
    if not path or path.endswith("/"):
        return f"{path or '/'}{filename}"
    last = path.rsplit("/", 1)[-1]
    if "." in last:
        return path
    return f"{path}/{filename}"


def _clean(text: str, directive: Directive) -> str:
    """``text`` without any credential of ``directive`` (raw or decoded)."""
    text = redact_text(text)
    for secret in (*directive_secrets(directive.raw), directive.password):
        if secret:
            text = text.replace(secret, "***")
    return text


def _where(directive: Directive) -> str:
    port = f":{directive.port}" if directive.port else ""
    user = f"{directive.user}@" if directive.user and directive.scheme != "s3" else ""
    return f"{directive.scheme}://{user}{directive.host}{port}{directive.path}"


async def deliver_ftp(raw: str, file: Path, filename: str, timeout: float) -> str:
    """Upload ``file`` to the FTP directive ``raw``; returns the remote path."""
    directive = parse_directive("ftp_directive", raw)
    remote = target_path(directive.path, filename)
    try:
        await asyncio.to_thread(_ftp_upload, directive, file, remote, timeout)
    except (ftplib.Error, OSError, EOFError) as exc:
        detail = _clean(str(exc) or type(exc).__name__, directive)
        raise DeliveryError(f"FTP delivery to {_where(directive)} failed: {detail}") from None
    return remote


def _ftp_upload(directive: Directive, file: Path, remote: str, timeout: float) -> None:
    with ftplib.FTP() as ftp:
        ftp.connect(directive.host, directive.port or 21, timeout=timeout)
        ftp.login(directive.user or "anonymous", directive.password or "anonymous@")
        folder, _, name = remote.rpartition("/")
        ftp.cwd("/")
        for segment in [s for s in folder.split("/") if s]:
            try:
                ftp.cwd(segment)
            except ftplib.error_perm:
                ftp.mkd(segment)
                ftp.cwd(segment)
        with file.open("rb") as fh:
            ftp.storbinary(f"STOR {name}", fh)


async def deliver_s3(
    raw: str, file: Path, filename: str, *, endpoint_url: str | None, region: str, mime_type: str
) -> str:
    """Upload ``file`` to the S3 directive ``raw`` (bucket = host); returns the object key."""
    directive = parse_directive("s3_directive", raw)
    key = target_path(directive.path.lstrip("/"), filename).lstrip("/")
    try:
        await asyncio.to_thread(_s3_upload, directive, file, key, endpoint_url, region, mime_type)
    except Exception as exc:
        detail = _clean(str(exc) or type(exc).__name__, directive)
        raise DeliveryError(f"S3 delivery to s3://{directive.host}/{key} failed: {detail}") from None
    return key


def _s3_upload(
    directive: Directive, file: Path, key: str, endpoint_url: str | None, region: str, mime_type: str
) -> None:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=directive.user,
        aws_secret_access_key=directive.password,
        region_name=region,
        config=Config(connect_timeout=10, read_timeout=30, retries={"max_attempts": 2}),
    )
    client.upload_file(str(file), directive.host, key, ExtraArgs={"ContentType": mime_type})


async def deliver_http(
    session: aiohttp.ClientSession,
    raw: str,
    file: Path,
    filename: str,
    fields: Mapping[str, str],
    *,
    mime_type: str,
    timeout: float,
) -> None:
    """Multipart POST of ``file`` (field ``encoded_video``) plus ``fields`` to ``raw``."""
    directive = parse_directive("http_upload_directive", raw)
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, str(value))
    try:
        with file.open("rb") as fh:
            form.add_field("encoded_video", fh, filename=filename, content_type=mime_type)
            client_timeout = aiohttp.ClientTimeout(total=None, connect=timeout, sock_read=timeout)
            async with session.post(raw, data=form, timeout=client_timeout) as response:
                if response.status >= 400:
                    raise DeliveryError(
                        f"HTTP upload to {_where(directive)} failed: answered HTTP {response.status}"
                    )
    except DeliveryError:
        raise
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as exc:
        detail = _clean(str(exc) or type(exc).__name__, directive)
        raise DeliveryError(f"HTTP upload to {_where(directive)} failed: {detail}") from None
