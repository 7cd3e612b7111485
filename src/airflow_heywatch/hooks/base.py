"""What the sync and the async HeyWatch hooks have in common: the connection and the retry policy."""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import BaseHook

from airflow_heywatch.api.protocol import RetryPolicy
from airflow_heywatch.get_provider_info import DEFAULT_CONN_ID

__all__ = ["HeyWatchBaseHook"]


class HeyWatchBaseHook(BaseHook):
    """A hook on a ``heywatch`` connection, retrying as its :class:`RetryPolicy` allows.

    :param heywatch_conn_id: the Airflow connection to use.
    :param retry_policy: how often and how long to retry; default ``RetryPolicy()``.
    """

    conn_name_attr = "heywatch_conn_id"
    default_conn_name = DEFAULT_CONN_ID

    def __init__(
        self,
        heywatch_conn_id: str = DEFAULT_CONN_ID,
        *,
        retry_policy: RetryPolicy | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.heywatch_conn_id = heywatch_conn_id
        self.retry_policy = retry_policy or RetryPolicy()
