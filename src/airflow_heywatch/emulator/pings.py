"""Pings: form-encoded POSTs to the user's callback URLs. A failing receiver never raises."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

import aiohttp

from airflow_heywatch.api.redact import redact_url

__all__ = ["send_ping"]

log = logging.getLogger("airflow_heywatch.emulator.pings")


async def send_ping(
    session: aiohttp.ClientSession, url: str | None, fields: Mapping[str, object], timeout: float
) -> bool:
    """POST ``fields`` form-encoded to ``url``; ``True`` when the receiver answered 2xx/3xx."""
    if not url:
        return False
    data = {name: "" if value is None else str(value) for name, value in fields.items()}
    try:
        async with session.post(
            url, data=data, timeout=aiohttp.ClientTimeout(total=timeout), allow_redirects=False
        ) as response:
            ok = response.status < 400
            if not ok:
                log.warning("ping to %s answered HTTP %s", redact_url(url), response.status)
            return ok
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as exc:
        log.warning("ping to %s failed: %s", redact_url(url), type(exc).__name__)
        return False
