"""``HeyWatchAsyncHook``: the read side of the HeyWatch API for triggers, on aiohttp.

Nothing here blocks the event loop: the connection is looked up with
``get_async_connection``, the retry waits are ``asyncio.sleep`` and one ``aiohttp.ClientSession``
serves every call until :meth:`HeyWatchAsyncHook.close`. Requests, retry decisions and decoding
come from :mod:`airflow_heywatch.api.protocol`, exactly as for the sync hook.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.connection import get_async_connection, get_async_extra_dejson

from airflow_heywatch.api import protocol
from airflow_heywatch.api.protocol import ApiRequest, ConnectionSettings, RetryPolicy
from airflow_heywatch.get_provider_info import DEFAULT_CONN_ID
from airflow_heywatch.hooks.base import HeyWatchBaseHook

if TYPE_CHECKING:
    from types import TracebackType

    import aiohttp

__all__ = ["HeyWatchAsyncHook"]


async def _amask_secret(secret: str) -> None:
    """Register ``secret`` with the secrets masker without blocking the event loop."""
    try:
        from airflow.sdk.log import amask_secret
    except ImportError:  # Airflow 2: the masker is local to the process, the call does no I/O.
        from airflow.providers.common.compat.sdk import mask_secret

        mask_secret(secret)
    else:
        await amask_secret(secret)


def _basic_authorization(login: str, password: str) -> str:
    """The ``Authorization`` header value for HTTP Basic auth, as aiohttp encodes it."""
    import aiohttp

    encode = getattr(aiohttp, "encode_basic_auth", None)  # aiohttp >= 3.14; BasicAuth is deprecated there
    if encode is not None:
        return str(encode(login, password))
    return aiohttp.BasicAuth(login, password).encode()


def _classify_error(error: BaseException) -> tuple[bool, bool]:
    """``(retryable, sent)`` for an aiohttp or timeout exception."""
    import aiohttp

    if isinstance(error, aiohttp.ClientSSLError):
        return False, False
    if isinstance(error, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)):
        return True, False  # refused, name resolution, connect timeout: nothing was sent
    if isinstance(error, (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, asyncio.TimeoutError)):
        return True, True
    return False, True


class HeyWatchAsyncHook(HeyWatchBaseHook):
    """Async counterpart of :class:`~airflow_heywatch.hooks.heywatch.HeyWatchHook` (read methods).

    Use it as ``async with HeyWatchAsyncHook(conn_id) as hook: await hook.get_download(12)``, or
    call :meth:`close` when done. The session is created on first use and reused by every call.

    :param heywatch_conn_id: the Airflow connection to use.
    :param retry_policy: how often and how long to retry; default ``RetryPolicy()``.
    """

    def __init__(
        self,
        heywatch_conn_id: str = DEFAULT_CONN_ID,
        *,
        retry_policy: RetryPolicy | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(heywatch_conn_id, retry_policy=retry_policy, **kwargs)
        self._session: aiohttp.ClientSession | None = None
        self._settings: ConnectionSettings | None = None
        self._lock: asyncio.Lock | None = None

    async def _load(self) -> tuple[aiohttp.ClientSession, ConnectionSettings]:
        if self._session is not None and self._settings is not None and not self._session.closed:
            return self._session, self._settings
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._session is None or self._settings is None or self._session.closed:
                import aiohttp

                conn = await get_async_connection(self.heywatch_conn_id, hook=self)
                for secret in protocol.basic_auth_secrets(conn.login, conn.password):
                    await _amask_secret(secret)
                extra = await get_async_extra_dejson(conn)
                settings = protocol.connection_settings(conn.host, conn.schema, conn.port, extra)
                self._session = aiohttp.ClientSession(
                    headers={"Authorization": _basic_authorization(conn.login or "", conn.password or "")},
                    timeout=aiohttp.ClientTimeout(total=settings.timeout, sock_connect=settings.timeout),
                    connector=aiohttp.TCPConnector(ssl=None if settings.verify else False),
                )
                self._settings = settings
        return self._session, self._settings

    async def get_conn(self) -> aiohttp.ClientSession:
        """The hook's ``aiohttp.ClientSession`` (created on first use, then reused)."""
        return (await self._load())[0]

    async def get_settings(self) -> ConnectionSettings:
        """Base URL, format, timeout and TLS verification read from the connection."""
        return (await self._load())[1]

    async def close(self) -> None:
        """Close the session. The hook opens a new one if used again."""
        session, self._session, self._settings = self._session, None, None
        if session is not None and not session.closed:
            await session.close()

    async def __aenter__(self) -> HeyWatchAsyncHook:
        await self._load()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def send(self, request: ApiRequest, *, retry_policy: RetryPolicy | None = None) -> Any:
        """Send ``request``, retrying as the policy allows, and return the decoded answer."""
        session, settings = await self._load()
        policy = retry_policy or self.retry_policy
        url = settings.base_url + request.path
        attempt = 0
        while True:
            attempt += 1
            try:
                async with session.request(
                    request.method,
                    url,
                    data=request.form or None,
                    headers=request.headers,
                    allow_redirects=request.method == "GET",
                ) as response:
                    status = response.status
                    body = await response.read()
                    headers = dict(response.headers)
            except Exception as error:
                import aiohttp

                if not isinstance(error, (aiohttp.ClientError, asyncio.TimeoutError)):
                    raise
                retryable, sent = _classify_error(error)
                delay = (
                    policy.delay_before_retry(request, attempt, error=error, sent=sent) if retryable else None
                )
                if delay is None:
                    detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
                    raise protocol.transport_error(
                        request,
                        settings.base_url,
                        attempt,
                        detail,
                        tls_refused=isinstance(error, aiohttp.ClientSSLError),
                        retryable=retryable,
                        sent=sent,
                    ) from error
                self.log.warning(
                    protocol.RETRY_AFTER_ERROR_LOG,
                    request,
                    type(error).__name__,
                    delay,
                    attempt + 1,
                    policy.max_attempts,
                )
                await asyncio.sleep(delay)
                continue

            if policy.is_retryable_status(status):
                retry_after = protocol.parse_retry_after(
                    next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
                )
                delay = policy.delay_before_retry(request, attempt, status=status, retry_after=retry_after)
                if delay is not None:
                    self.log.warning(
                        protocol.RETRY_AFTER_STATUS_LOG,
                        request,
                        status,
                        delay,
                        attempt + 1,
                        policy.max_attempts,
                    )
                    await asyncio.sleep(delay)
                    continue
            return protocol.interpret_response(request, status, body, headers, attempts=attempt)

    async def _fmt(self) -> str:
        return (await self._load())[1].fmt

    # Read methods ----------------------------------------------------------------------------

    async def get_account(self) -> dict[str, Any]:
        return await self.send(protocol.get_account(await self._fmt()))

    async def list_downloads(self) -> list[dict[str, Any]]:
        return await self.send(protocol.list_downloads(await self._fmt())) or []

    async def get_download(self, download_id: int | str) -> dict[str, Any]:
        return await self.send(protocol.get_download(download_id, await self._fmt()))

    async def list_videos(self) -> list[dict[str, Any]]:
        return await self.send(protocol.list_videos(await self._fmt())) or []

    async def get_video(self, video_id: int | str) -> dict[str, Any]:
        return await self.send(protocol.get_video(video_id, await self._fmt()))

    async def list_jobs(self) -> list[dict[str, Any]]:
        return await self.send(protocol.list_jobs(await self._fmt())) or []

    async def get_job(self, job_id: int | str) -> dict[str, Any]:
        return await self.send(protocol.get_job(job_id, await self._fmt()))

    async def list_encoded_videos(self) -> list[dict[str, Any]]:
        return await self.send(protocol.list_encoded_videos(await self._fmt())) or []

    async def get_encoded_video(self, encoded_video_id: int | str) -> dict[str, Any]:
        return await self.send(protocol.get_encoded_video(encoded_video_id, await self._fmt()))

    async def list_formats(self) -> list[dict[str, Any]]:
        return await self.send(protocol.list_formats(await self._fmt())) or []

    async def get_format(self, format_id: int | str) -> dict[str, Any]:
        return await self.send(protocol.get_format(format_id, await self._fmt()))
