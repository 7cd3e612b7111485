"""``HeyWatchDownloadLink``: the "HeyWatch download" button of a task that created a download.

The operator pushes the download's web page (on the connection's host) to XCom under
:data:`DOWNLOAD_URL_XCOM_KEY` as soon as the download exists; the link reads it back. Nothing is
looked up when the page is drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperatorLink, XCom

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import TaskInstanceKey

__all__ = ["DOWNLOAD_URL_XCOM_KEY", "HeyWatchDownloadLink"]

DOWNLOAD_URL_XCOM_KEY = "heywatch_download_url"


class HeyWatchDownloadLink(BaseOperatorLink):
    """Link to the HeyWatch page of the download created (or reused) by the task."""

    name = "HeyWatch download"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        # The operator instance that ran (Airflow 3 resolves links when the task finishes) knows
        # its download page, or "" when it created none: no XCom lookup, so no "XCom not found"
        # error line after a task that failed before submitting.
        url = getattr(operator, "_download_url", None)
        if not isinstance(url, str):
            url = XCom.get_value(key=DOWNLOAD_URL_XCOM_KEY, ti_key=ti_key)
        return url if isinstance(url, str) else ""
