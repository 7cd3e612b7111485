"""``HeyWatchDownloadSensor``: wait until a HeyWatch download (and optionally its encodes) ends.

Works in the three sensor modes with the same outcome: ``poke`` and ``reschedule`` look once per
poke with the sync hook; ``deferrable=True`` hands the wait to
:class:`~airflow_heywatch.triggers.download.HeyWatchDownloadTrigger`. Importing this module is
cheap (no aiohttp).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowSensorTimeout,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)

from airflow_heywatch.exceptions import HeyWatchDownloadFailed, failing_on_invalid_parameters
from airflow_heywatch.sensors.polling import normalise_format_ids, parse_download_ref, poll_download

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

__all__ = ["HeyWatchDownloadSensor"]


def _default_deferrable() -> bool:
    return conf.getboolean("operators", "default_deferrable", fallback=False)


class HeyWatchDownloadSensor(BaseSensorOperator):
    """Wait for a HeyWatch download to finish — and, with ``wait_for_encoding``, its encodes.

    :param download_id: the download: an int, a numeric string, or the return value of
        :class:`~airflow_heywatch.operators.download.HeyWatchCreateDownloadOperator` (its
        ``format_ids`` are then used when ``format_ids`` is not given). Templated.
    :param wait_for_encoding: after the transfer, wait for every encoding job of the download's
        video; the return value then lists the encoded videos.
    :param format_ids: the requested formats in order: how many jobs to wait for, and the order
        of ``encoded_videos``. Templated.
    :param heywatch_conn_id: the HeyWatch connection. Templated.
    :param deferrable: wait in the triggerer; default ``[operators] default_deferrable``.

    A download or job in ``error`` fails the task with
    :class:`~airflow_heywatch.exceptions.HeyWatchDownloadFailed` (an ``AirflowFailException``:
    ``soft_fail=True`` skips instead). ``timeout`` and ``poke_interval`` apply in every mode.

    Return value (XCom): the download (passwords redacted) plus, with ``wait_for_encoding``,
    ``encoded_videos``: ``[{"id", "job_id", "video_id", "format_id", "format_name", "filename",
    "link", "size"}, …]`` in requested-format order.
    """

    template_fields: Sequence[str] = ("download_id", "format_ids", "heywatch_conn_id")
    ui_color = "#e8f1fb"

    def __init__(
        self,
        *,
        download_id: Any,
        wait_for_encoding: bool = False,
        format_ids: Sequence[int | str] | None = None,
        heywatch_conn_id: str = "heywatch_default",
        deferrable: bool = _default_deferrable(),
        **sensor_kwargs: Any,
    ) -> None:
        super().__init__(**sensor_kwargs)
        self.download_id = download_id
        self.wait_for_encoding = bool(wait_for_encoding)
        self.format_ids = format_ids
        self.heywatch_conn_id = heywatch_conn_id
        self.deferrable = deferrable

    def _target(self) -> tuple[int, list[int | str]]:
        """The download id and the requested formats, from the rendered parameters."""
        with failing_on_invalid_parameters():
            download_id, from_xcom = parse_download_ref(self.download_id)
            if self.format_ids is not None:
                return download_id, normalise_format_ids(self.format_ids)
        return download_id, list(from_xcom or [])

    def poke(self, context: Context) -> bool | PokeReturnValue:
        from airflow_heywatch.hooks.heywatch import HeyWatchHook

        download_id, format_ids = self._target()
        with HeyWatchHook(heywatch_conn_id=self.heywatch_conn_id) as hook:
            poll = poll_download(
                hook, download_id, wait_for_encoding=self.wait_for_encoding, format_ids=format_ids
            )
        if poll.verdict.failed and poll.verdict.failure is not None:
            raise HeyWatchDownloadFailed.from_failure(poll.verdict.failure, download_id)
        if poll.verdict.done:
            self.log.info("%s", poll.verdict.reason)
            return PokeReturnValue(
                is_done=True, xcom_value=poll.xcom_value(wait_for_encoding=self.wait_for_encoding)
            )
        self.log.info("%s", poll.message)
        return False

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        download_id, format_ids = self._target()
        from airflow_heywatch.triggers.download import HeyWatchDownloadTrigger

        self.defer(
            trigger=HeyWatchDownloadTrigger(
                download_id=download_id,
                heywatch_conn_id=self.heywatch_conn_id,
                poll_interval=float(self.poke_interval),
                wait_for_encoding=self.wait_for_encoding,
                format_ids=format_ids,
                end_time=time.time() + float(self.timeout),
            ),
            method_name="execute_complete",
            kwargs={"download_id": download_id},
            timeout=timedelta(seconds=float(self.timeout)),
        )

    def execute_complete(self, context: Context, event: Any = None, download_id: int | None = None) -> Any:
        """Resume from the trigger's event; a ``timeout`` event is a sensor timeout."""
        from airflow_heywatch.triggers.events import resolve_event

        if download_id is None:
            download_id = self._target()[0]
        return resolve_event(
            event,
            download_id=download_id,
            wait_for_encoding=self.wait_for_encoding,
            timeout_error=AirflowSensorTimeout,
        )
