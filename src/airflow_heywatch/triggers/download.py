"""``HeyWatchDownloadTrigger``: wait in the triggerer until a download (and its encodes) ends.

Pure asyncio: the async hook (aiohttp, async connection lookup) is opened once for the life of
the trigger, the trigger sleeps ``poll_interval`` between looks — after an error too — and it
yields exactly one event (see :mod:`airflow_heywatch.triggers.events`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_heywatch.api.errors import (
    HeyWatchDecodeError,
    HeyWatchError,
    HeyWatchRateLimitError,
    HeyWatchServerError,
    HeyWatchTransportError,
)
from airflow_heywatch.api.redact import redact_text
from airflow_heywatch.sensors.polling import apoll_download, normalise_format_ids
from airflow_heywatch.triggers.events import done_event, error_event, failed_event, timeout_event

__all__ = ["HeyWatchDownloadTrigger"]

#: Errors that may go away by themselves: counted, and the trigger keeps polling.
TRANSIENT_ERRORS: tuple[type[HeyWatchError], ...] = (
    HeyWatchTransportError,
    HeyWatchServerError,
    HeyWatchRateLimitError,
    HeyWatchDecodeError,
)


class HeyWatchDownloadTrigger(BaseTrigger):
    """Poll a HeyWatch download until it is finished (and encoded), failed, or out of time.

    :param download_id: the download to watch.
    :param heywatch_conn_id: the HeyWatch connection.
    :param poll_interval: seconds between two looks (also after an error).
    :param wait_for_encoding: also wait for every encoding job of the download's video.
    :param format_ids: the requested formats, in order: the number of jobs to wait for and the
        order of the encoded videos in the event.
    :param end_time: a Unix timestamp; after it the trigger yields a ``timeout`` event.
    :param max_consecutive_errors: transient failures in a row (transport errors, 5xx, 429,
        undecodable answers — each already retried by the hook) tolerated before the trigger
        gives up with a ``failed`` event.
    """

    def __init__(
        self,
        download_id: int,
        heywatch_conn_id: str = "heywatch_default",
        poll_interval: float = 10.0,
        wait_for_encoding: bool = False,
        format_ids: Sequence[int | str] | None = None,
        end_time: float | None = None,
        max_consecutive_errors: int = 3,
    ) -> None:
        super().__init__()
        if isinstance(download_id, bool) or not isinstance(download_id, int) or download_id <= 0:
            raise ValueError(f"download_id must be a positive int, not {download_id!r}")
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be a positive number of seconds, not {poll_interval!r}")
        if max_consecutive_errors < 0:
            raise ValueError(f"max_consecutive_errors must be >= 0, not {max_consecutive_errors!r}")
        self.download_id = download_id
        self.heywatch_conn_id = heywatch_conn_id
        self.poll_interval = float(poll_interval)
        self.wait_for_encoding = bool(wait_for_encoding)
        self.format_ids = normalise_format_ids(format_ids)
        self.end_time = None if end_time is None else float(end_time)
        self.max_consecutive_errors = int(max_consecutive_errors)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "download_id": self.download_id,
                "heywatch_conn_id": self.heywatch_conn_id,
                "poll_interval": self.poll_interval,
                "wait_for_encoding": self.wait_for_encoding,
                "format_ids": list(self.format_ids),
                "end_time": self.end_time,
                "max_consecutive_errors": self.max_consecutive_errors,
            },
        )

    def _remaining(self) -> float | None:
        return None if self.end_time is None else self.end_time - time.time()

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_heywatch.hooks.heywatch_async import HeyWatchAsyncHook

        event = None
        errors = 0
        async with HeyWatchAsyncHook(self.heywatch_conn_id) as hook:
            while event is None:
                try:
                    poll = await apoll_download(
                        hook,
                        self.download_id,
                        wait_for_encoding=self.wait_for_encoding,
                        format_ids=self.format_ids,
                    )
                except TRANSIENT_ERRORS as error:
                    errors += 1
                    text = redact_text(str(error))
                    if errors > self.max_consecutive_errors:
                        event = error_event(
                            self.download_id,
                            f"HeyWatch download {self.download_id}: giving up after {errors} failed "
                            f"attempts in a row to read its state; last error: {text}",
                        )
                        break
                    self.log.warning(
                        "Reading download %s failed (%d of %d tolerated in a row): %s",
                        self.download_id,
                        errors,
                        self.max_consecutive_errors,
                        text,
                    )
                except HeyWatchError as error:
                    event = error_event(
                        self.download_id,
                        f"HeyWatch download {self.download_id}: {redact_text(str(error))}",
                    )
                    break
                else:
                    errors = 0
                    if poll.verdict.done:
                        event = done_event(self.download_id, poll.download, poll.encoded_videos)
                        break
                    if poll.verdict.failed and poll.verdict.failure is not None:
                        event = failed_event(self.download_id, poll.verdict.failure)
                        break
                    self.log.info("%s", poll.message)

                remaining = self._remaining()
                if remaining is not None and remaining <= 0:
                    event = timeout_event(
                        self.download_id,
                        f"HeyWatch download {self.download_id} did not finish"
                        f"{' encoding' if self.wait_for_encoding else ''} before the timeout",
                    )
                    break
                delay = self.poll_interval if remaining is None else min(self.poll_interval, remaining)
                await asyncio.sleep(max(delay, 0.0))
        yield TriggerEvent(event)
