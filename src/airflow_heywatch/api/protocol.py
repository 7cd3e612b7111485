"""Request building, response interpretation and the retry policy, shared by both hooks.

The sync hook (requests) and the async hook (aiohttp) only move bytes: what to send, how to read
the answer and whether to try again are decided here, once.
"""

from __future__ import annotations

import base64
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from airflow_heywatch import __version__
from airflow_heywatch.api.decoding import decode_body, decode_error_message
from airflow_heywatch.api.errors import (
    HeyWatchAPIError,
    HeyWatchTransportError,
    HeyWatchValidationError,
    api_error,
)
from airflow_heywatch.api.options import form_value, normalise_directive, validate_job_params

__all__ = [
    "ACCEPT",
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "FORMATS",
    "USER_AGENT",
    "ApiRequest",
    "ConnectionSettings",
    "Format",
    "RetryPolicy",
    "basic_auth_secrets",
    "build_base_url",
    "cancel_job",
    "check_id",
    "connection_settings",
    "create_download",
    "create_format",
    "create_job",
    "delete_download",
    "delete_encoded_video",
    "delete_video",
    "encode_form",
    "get_account",
    "get_download",
    "get_encoded_video",
    "get_format",
    "get_job",
    "get_video",
    "interpret_response",
    "list_downloads",
    "list_encoded_videos",
    "list_formats",
    "list_jobs",
    "list_videos",
    "parse_retry_after",
]

Format = Literal["json", "xml"]

#: The representations the API offers, chosen per connection with the ``format`` extra.
FORMATS: tuple[str, ...] = ("json", "xml")

#: ``Accept`` header sent for each format (the path suffix says the same thing).
ACCEPT: dict[str, str] = {"json": "application/json", "xml": "application/xml"}

#: ``User-Agent`` of every request.
USER_AGENT = f"airflow-heywatch/{__version__}"

DEFAULT_BASE_URL = "https://heywatch.com"
DEFAULT_TIMEOUT = 30.0

#: Methods that may be sent again after any failure: repeating them has no further effect.
_IDEMPOTENT = frozenset({"GET", "HEAD", "DELETE", "PUT", "OPTIONS"})

#: Delivery directives, validated with the multi-format rules.
_DIRECTIVES = ("ftp_directive", "s3_directive", "http_upload_directive")

#: Schemes the server can fetch a source file from.
_SOURCE_URL_SCHEMES = ("http", "https", "ftp")


# --------------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiRequest:
    """One API call, ready to be sent by a hook.

    ``path`` is relative to the connection's base URL and carries the format suffix
    (``/download/12.json``); ``form`` holds the form-encoded body of a POST; ``headers`` are the
    only headers the hooks add besides the Basic ``Authorization``.
    """

    method: str
    path: str
    resource: str
    fmt: Format
    resource_id: int | None = None
    form: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _check_format(fmt: str) -> Format:
    if fmt not in FORMATS:
        raise HeyWatchValidationError(
            "format",
            f"format must be 'json' or 'xml', got {fmt!r}; set the connection extra "
            '{"format": "json"} or {"format": "xml"}',
        )
    return fmt  # type: ignore[return-value]


def _request(
    method: str,
    resource: str,
    fmt: str,
    resource_id: int | None = None,
    form: Mapping[str, str] | None = None,
) -> ApiRequest:
    fmt = _check_format(fmt)
    path = f"/{resource}" if resource_id is None else f"/{resource}/{resource_id}"
    return ApiRequest(
        method=method,
        path=f"{path}.{fmt}",
        resource=resource,
        fmt=fmt,
        resource_id=resource_id,
        form=dict(form or {}),
        headers={"Accept": ACCEPT[fmt], "User-Agent": USER_AGENT},
    )


def check_id(name: str, value: Any) -> int:
    """``value`` as a positive integer id, or :class:`HeyWatchValidationError` naming ``name``.

    Accepts ints and strings of digits (as templated values arrive); refuses booleans, zero,
    negative numbers and anything else.
    """
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    if number is None or number <= 0:
        raise HeyWatchValidationError(
            name, f"{name} must be a positive integer id, got {value!r}; pass the id the API returned"
        )
    return number


def encode_form(params: Mapping[str, Any]) -> dict[str, str]:
    """Form parameters as strings (booleans as ``true``/``false``); ``None`` values are left out.

    ``format_id`` and the ``*_directive`` parameters go through the multi-format rules of
    :func:`~airflow_heywatch.api.options.validate_job_params` (lists or comma-separated strings).
    """
    params = dict(params)
    for name in params:
        if not isinstance(name, str) or not name:
            raise HeyWatchValidationError(
                "params", f"form parameter names must be non-empty strings, got {name!r}"
            )
    job = {name: params.pop(name, None) for name in ("format_id", *_DIRECTIVES)}
    form: dict[str, str] = {}
    if job["format_id"] is not None:
        form.update(validate_job_params(**job))
    else:
        for name in _DIRECTIVES:
            if job[name] is not None:
                form[name] = normalise_directive(name, job[name])
    for name, value in params.items():
        if value is not None:
            form[name] = form_value(value, name)
    return form


def _check_source_url(url: Any) -> str:
    if not isinstance(url, str) or not url.strip():
        raise HeyWatchValidationError(
            "url", "url is required: pass the http://, https:// or ftp:// address of the source video"
        )
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in _SOURCE_URL_SCHEMES or not parts.hostname:
        shown = url.split("@", 1)[-1] if "@" in url else url
        raise HeyWatchValidationError(
            "url",
            f"url must be an http://, https:// or ftp:// address with a host, got {shown!r}",
        )
    return url


# One builder per API call ---------------------------------------------------------------------


def get_account(fmt: str) -> ApiRequest:
    return _request("GET", "account", fmt)


def list_downloads(fmt: str) -> ApiRequest:
    return _request("GET", "download", fmt)


def get_download(download_id: Any, fmt: str) -> ApiRequest:
    return _request("GET", "download", fmt, check_id("download_id", download_id))


def create_download(url: Any, params: Mapping[str, Any] | None, fmt: str) -> ApiRequest:
    """``POST /download``: ``url`` plus optional parameters (title, pings, job options…)."""
    params = dict(params or {})
    if "url" in params:
        raise HeyWatchValidationError("url", "url is given twice: pass it once, as the first argument")
    form = {"url": _check_source_url(url), **encode_form(params)}
    return _request("POST", "download", fmt, form=form)


def delete_download(download_id: Any, fmt: str) -> ApiRequest:
    return _request("DELETE", "download", fmt, check_id("download_id", download_id))


def list_videos(fmt: str) -> ApiRequest:
    return _request("GET", "video", fmt)


def get_video(video_id: Any, fmt: str) -> ApiRequest:
    return _request("GET", "video", fmt, check_id("video_id", video_id))


def delete_video(video_id: Any, fmt: str) -> ApiRequest:
    return _request("DELETE", "video", fmt, check_id("video_id", video_id))


def list_jobs(fmt: str) -> ApiRequest:
    return _request("GET", "job", fmt)


def get_job(job_id: Any, fmt: str) -> ApiRequest:
    return _request("GET", "job", fmt, check_id("job_id", job_id))


def create_job(video_id: Any, format_id: Any, params: Mapping[str, Any] | None, fmt: str) -> ApiRequest:
    """``POST /job``: encode video ``video_id`` into ``format_id`` (one id or a list of ids)."""
    params = dict(params or {})
    if "video_id" in params or "format_id" in params:
        raise HeyWatchValidationError(
            "format_id", "video_id and format_id are given twice: pass them once, as arguments"
        )
    if format_id is None or (isinstance(format_id, (list, tuple, str)) and not format_id):
        raise HeyWatchValidationError("format_id", "format_id is required: give a format id such as 31")
    form = {
        "video_id": str(check_id("video_id", video_id)),
        **encode_form({"format_id": format_id, **params}),
    }
    return _request("POST", "job", fmt, form=form)


def cancel_job(job_id: Any, fmt: str) -> ApiRequest:
    """``DELETE /job/ID``: cancel a job (the server allows it only while it is pending)."""
    return _request("DELETE", "job", fmt, check_id("job_id", job_id))


def list_encoded_videos(fmt: str) -> ApiRequest:
    return _request("GET", "encoded_video", fmt)


def get_encoded_video(encoded_video_id: Any, fmt: str) -> ApiRequest:
    return _request("GET", "encoded_video", fmt, check_id("encoded_video_id", encoded_video_id))


def delete_encoded_video(encoded_video_id: Any, fmt: str) -> ApiRequest:
    return _request("DELETE", "encoded_video", fmt, check_id("encoded_video_id", encoded_video_id))


def list_formats(fmt: str) -> ApiRequest:
    return _request("GET", "format", fmt)


def get_format(format_id: Any, fmt: str) -> ApiRequest:
    return _request("GET", "format", fmt, check_id("format_id", format_id))


def create_format(params: Mapping[str, Any], fmt: str) -> ApiRequest:
    """``POST /format``: a new encoding profile; ``name`` is required."""
    form = encode_form(params)
    if not form.get("name", "").strip():
        raise HeyWatchValidationError("name", "name is required: give the new format a name")
    return _request("POST", "format", fmt, form=form)


# --------------------------------------------------------------------------------------------
# Responses
# --------------------------------------------------------------------------------------------


def interpret_response(
    request: ApiRequest,
    status: int,
    body: bytes,
    headers: Mapping[str, str] | None = None,
    *,
    attempts: int = 1,
) -> Any:
    """The decoded answer of a 2xx, or the matching :class:`HeyWatchAPIError` raised.

    204 and empty bodies give ``None``. A 2xx body that is neither JSON nor XML raises
    :class:`HeyWatchDecodeError`. ``attempts`` (how many times the request was sent) is named in
    the error text when it is more than one.
    """
    if 200 <= status < 300:
        if status == 204 or not body.strip():
            return None
        return decode_body(body, fmt=request.fmt, resource=request.resource)
    raise _error_for(request, status, body, headers or {}, attempts)


def _error_for(
    request: ApiRequest, status: int, body: bytes, headers: Mapping[str, str], attempts: int
) -> HeyWatchAPIError:
    try:
        server_message = decode_error_message(body, request.fmt) if body else ""
    except Exception:
        server_message = ""
    if not server_message and status == 400:
        server_message = body.decode("utf-8", "replace").strip()[:500]

    if status == 401:
        message = server_message
    elif status == 404:
        if request.resource_id is not None:
            message = f"{request.resource} {request.resource_id} does not exist for this account"
        else:
            message = f"no {request.resource} resource at {request.path}; check the connection's base URL"
        if server_message:
            message = f"{server_message}; {message}"
    elif status == 406:
        other = "json" if request.fmt == "xml" else "xml"
        message = (
            f"the server cannot answer in {request.fmt}; set the connection extra "
            f'"format" to "{other}" (it chooses the representation asked of the API)'
        )
    elif 300 <= status < 400:
        location = _header(headers, "Location") or "?"
        message = (
            f"redirect to {location.split('?', 1)[0]}; set the connection's host to the base URL the "
            "server redirects to"
        )
    else:
        message = server_message
    if attempts > 1:
        message = (
            f"{message} (gave up after {attempts} attempts)"
            if message
            else f"gave up after {attempts} attempts"
        )
    return api_error(
        status,
        message,
        method=request.method,
        path=request.path,
        resource=request.resource,
        resource_id=request.resource_id,
    )


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay in seconds or an HTTP-date)."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


# --------------------------------------------------------------------------------------------
# Retries
# --------------------------------------------------------------------------------------------


class RetryPolicy:
    """When to send a request again, and how long to wait first.

    Waits grow as ``backoff * 2 ** (attempt - 1)``, capped at ``max_backoff``; ``jitter`` (a
    fraction, 0 = none) spreads them at random, reproducibly when ``seed`` is given. A
    ``Retry-After`` from the server replaces the computed wait, capped at ``max_backoff`` too.

    GET and DELETE are retried after connection errors, timeouts, 5xx and 429. A POST is
    retried only when it certainly never reached the server (``sent=False``: connection refused,
    name resolution failure, connect timeout); once sent it may have created something, so it is
    never repeated.
    """

    def __init__(
        self,
        max_attempts: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        *,
        jitter: float = 0.1,
        seed: int | None = None,
    ) -> None:
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise HeyWatchValidationError(
                "max_attempts", f"max_attempts must be an integer >= 1, got {max_attempts!r}"
            )
        if backoff < 0 or max_backoff < 0:
            raise HeyWatchValidationError("backoff", "backoff and max_backoff must be >= 0 seconds")
        if not 0 <= jitter <= 1:
            raise HeyWatchValidationError("jitter", f"jitter must be between 0 and 1, got {jitter!r}")
        self.max_attempts = max_attempts
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self.jitter = float(jitter)
        self._random = random.Random(seed)  # noqa: S311 - spreading waits, not security

    def __repr__(self) -> str:
        return (
            f"RetryPolicy(max_attempts={self.max_attempts}, backoff={self.backoff}, "
            f"max_backoff={self.max_backoff}, jitter={self.jitter})"
        )

    @staticmethod
    def is_retryable_status(status: int) -> bool:
        return status == 429 or 500 <= status <= 599

    def backoff_delay(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (1-based), without Retry-After."""
        delay = min(self.max_backoff, self.backoff * 2.0 ** max(0, attempt - 1))
        if self.jitter and delay:
            delay *= 1.0 - self.jitter * self._random.random()
        return delay

    def delay_before_retry(
        self,
        request: ApiRequest,
        attempt: int,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        error: BaseException | None = None,
        sent: bool = True,
    ) -> float | None:
        """Seconds to wait before sending ``request`` again, or ``None`` not to retry.

        ``attempt`` is the number of the attempt that just failed (1-based). Give either the
        HTTP ``status`` it was answered with (and the ``Retry-After`` in seconds, if any) or the
        transport ``error``, with ``sent=False`` when the request certainly never left.
        """
        if attempt >= self.max_attempts:
            return None
        if status is not None:
            if request.method not in _IDEMPOTENT or not self.is_retryable_status(status):
                return None
        elif error is not None:
            if request.method not in _IDEMPOTENT and sent:
                return None
        else:
            return None
        if retry_after is not None and status is not None:
            return min(max(0.0, retry_after), self.max_backoff)
        return self.backoff_delay(attempt)


#: Log line of a retry after a transport failure: request, error, wait, next attempt, attempts.
RETRY_AFTER_ERROR_LOG = "HeyWatch %s failed (%s); retrying in %.1f s (attempt %d of %d)"
#: Log line of a retry after an HTTP answer: request, status, wait, next attempt, attempts.
RETRY_AFTER_STATUS_LOG = "HeyWatch %s answered HTTP %d; retrying in %.1f s (attempt %d of %d)"


def transport_error(
    request: ApiRequest,
    base_url: str,
    attempt: int,
    detail: str,
    *,
    tls_refused: bool,
    retryable: bool,
    sent: bool,
) -> HeyWatchTransportError:
    """The error raised when a request could not be completed, with what to do about it.

    ``detail`` describes the transport failure (exception class and text). A POST that may have
    reached the server says so, because it was deliberately not repeated.
    """
    where = f"HeyWatch {request} at {base_url}"
    if tls_refused:
        return HeyWatchTransportError(
            f"{where} failed after {attempt} attempt(s): {detail}; the TLS certificate was not "
            "accepted (for a test server with a self-signed certificate set the connection extra "
            '{"verify": false})'
        )
    if retryable and request.method not in _IDEMPOTENT and sent:
        return HeyWatchTransportError(
            f"{where} failed: {detail}; not retried because the request may have reached the server: "
            "check what exists (e.g. list_downloads) before submitting again"
        )
    return HeyWatchTransportError(f"{where} failed after {attempt} attempt(s): {detail}")


# --------------------------------------------------------------------------------------------
# Connection settings
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionSettings:
    """What a hook needs from a ``heywatch`` connection besides the credentials."""

    base_url: str
    fmt: Format = "json"
    timeout: float = DEFAULT_TIMEOUT
    verify: bool = True


def build_base_url(host: str | None, schema: str | None = None, port: int | None = None) -> str:
    """The API base URL from a connection's host, schema and port.

    ``host`` may be a full URL (``http://127.0.0.1:8080``) or a bare host name, which is then
    combined with ``schema`` (``http``/``https``, default ``https``) and ``port``. An empty host
    means the public service, ``https://heywatch.com``.
    """
    host = (host or "").strip()
    schema = (schema or "").strip().lower()
    if not host:
        return DEFAULT_BASE_URL
    if "://" in host:
        parts = urlsplit(host)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise HeyWatchValidationError(
                "host", f"host must be an http:// or https:// base URL, got {host!r}"
            )
        if parts.username or parts.password:
            raise HeyWatchValidationError(
                "host", "host must not carry credentials: put them in the connection's login and password"
            )
        netloc = parts.netloc
        if port and parts.port is None:
            netloc = f"{netloc}:{int(port)}"
        return f"{parts.scheme.lower()}://{netloc}{parts.path.rstrip('/')}"
    if schema not in ("", "http", "https"):
        raise HeyWatchValidationError(
            "schema", f"schema must be 'http' or 'https' (or empty for https), got {schema!r}"
        )
    host, _, path = host.partition("/")
    netloc = f"{host}:{int(port)}" if port and ":" not in host else host
    base = f"{schema or 'https'}://{netloc}"
    return f"{base}/{path.strip('/')}" if path.strip("/") else base


def _extra(extra: Mapping[str, Any], name: str, conn_type: str) -> Any:
    value = extra.get(name)
    if value is None or value == "":
        # Connection forms of Airflow 2 may store custom fields as extra__<conn_type>__<name>.
        value = extra.get(f"extra__{conn_type}__{name}")
    return None if value == "" else value


def _to_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise HeyWatchValidationError(name, f"connection extra {name!r} must be true or false, got {value!r}")


def connection_settings(
    host: str | None,
    schema: str | None,
    port: int | None,
    extra: Mapping[str, Any] | None,
    *,
    conn_type: str = "heywatch",
) -> ConnectionSettings:
    """Base URL and the ``format``, ``timeout`` and ``verify`` extras, validated.

    No extra ever becomes an HTTP header; unknown extras are ignored.
    """
    extra = extra or {}
    fmt_value = _extra(extra, "format", conn_type)
    fmt = "json" if fmt_value is None else str(fmt_value).strip().lower()
    if fmt not in FORMATS:
        raise HeyWatchValidationError(
            "format",
            f"connection extra 'format' must be 'json' or 'xml', got {fmt_value!r}; "
            'fix the connection\'s extra, e.g. {"format": "json"}',
        )
    timeout_value = _extra(extra, "timeout", conn_type)
    if timeout_value is None:
        timeout = DEFAULT_TIMEOUT
    else:
        try:
            timeout = float(timeout_value)
        except (TypeError, ValueError):
            timeout = float("nan")
        if isinstance(timeout_value, bool) or not (timeout > 0 and math.isfinite(timeout)):
            raise HeyWatchValidationError(
                "timeout",
                f"connection extra 'timeout' must be a positive number of seconds, got {timeout_value!r}",
            )
    verify_value = _extra(extra, "verify", conn_type)
    verify = True if verify_value is None else _to_bool("verify", verify_value)
    return ConnectionSettings(
        base_url=build_base_url(host, schema, port),
        fmt=fmt,  # type: ignore[arg-type]
        timeout=timeout,
        verify=verify,
    )


def basic_auth_secrets(login: str | None, password: str | None) -> list[str]:
    """The values to register with the secrets masker: the password and the Basic token.

    The token is what an ``Authorization: Basic …`` header carries; the masker does not derive
    it from the password on its own.
    """
    if not password:
        return []
    token = base64.b64encode(f"{login or ''}:{password}".encode()).decode("ascii")
    return [password, token]
