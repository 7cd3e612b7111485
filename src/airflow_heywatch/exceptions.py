"""Airflow-facing exceptions of the HeyWatch operator, sensor and trigger.

- :class:`HeyWatchDownloadFailed` — the download (or one of its encoding jobs) ended in
  ``error`` on the server. A subclass of ``AirflowFailException``: the task fails without
  retrying (the same source would fail again), and a sensor with ``soft_fail=True`` is skipped.
- :class:`HeyWatchWaitTimeout` — the operator waited longer than its ``timeout``; a plain
  ``AirflowException``, so task retries apply (and a retry reuses the download).
- :class:`HeyWatchWaitError` — the server could not be asked (transport or API errors, after
  the retries); retries apply.
- :class:`HeyWatchEventError` — a trigger event the operator or sensor cannot interpret: the
  task fails rather than guess.

Every message is passed through :func:`airflow_heywatch.api.redact.redact_text`: no URL password
reaches a task log or the metadata database through an exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_heywatch.api.errors import HeyWatchRemoteFailure, HeyWatchValidationError, describe_error_code
from airflow_heywatch.api.redact import redact_text

__all__ = [
    "HeyWatchDownloadFailed",
    "HeyWatchEventError",
    "HeyWatchWaitError",
    "HeyWatchWaitTimeout",
]


def _has_code(error_code: Any) -> bool:
    return not (error_code is None or (isinstance(error_code, str) and not error_code.strip()))


class HeyWatchDownloadFailed(AirflowFailException):
    """A HeyWatch download, or one of its encoding jobs, ended in ``error``.

    Attributes: ``download_id``, ``resource`` (``"download"`` or ``"job"``), ``resource_id``,
    ``error_code`` (as the server gave it, ``None`` if none), ``meaning`` (the documented meaning
    of the code) and ``error_msg`` (the server's text, passwords masked).

    Message: ``HeyWatch download 12 failed: error 201 (404 Not Found (source URL gave 404)): <error_msg>``
    (for a job: ``HeyWatch download 12: job 7 failed: error 103 (…): …``).
    """

    def __init__(
        self,
        download_id: int | str | None,
        *,
        resource: str = "download",
        resource_id: int | str | None = None,
        error_code: Any = None,
        error_msg: str | None = None,
    ) -> None:
        self.download_id = download_id
        self.resource = resource
        self.resource_id = download_id if resource_id is None and resource == "download" else resource_id
        self.error_code = error_code
        self.meaning = describe_error_code(error_code)
        self.error_msg = redact_text(error_msg) if error_msg else error_msg
        if resource == "download":
            text = f"HeyWatch download {download_id} failed: "
        else:
            text = f"HeyWatch download {download_id}: {resource} {self.resource_id} failed: "
        text += f"error {error_code} ({self.meaning})" if _has_code(error_code) else "no error code"
        if self.error_msg:
            text += f": {self.error_msg}"
        super().__init__(text)

    @classmethod
    def from_failure(
        cls, failure: HeyWatchRemoteFailure, download_id: int | str | None = None
    ) -> HeyWatchDownloadFailed:
        """Build from the classifier's :class:`~airflow_heywatch.api.errors.HeyWatchRemoteFailure`."""
        if download_id is None and failure.resource == "download":
            download_id = failure.resource_id
        return cls(
            download_id,
            resource=failure.resource,
            resource_id=failure.resource_id,
            error_code=failure.error_code,
            error_msg=failure.error_msg,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_failed,
            (self.download_id, self.resource, self.resource_id, self.error_code, self.error_msg),
        )


def _rebuild_failed(
    download_id: Any, resource: str, resource_id: Any, error_code: Any, error_msg: str | None
) -> HeyWatchDownloadFailed:
    return HeyWatchDownloadFailed(
        download_id, resource=resource, resource_id=resource_id, error_code=error_code, error_msg=error_msg
    )


class _RedactedAirflowException(AirflowException):
    def __init__(self, message: str) -> None:
        super().__init__(redact_text(str(message)))


class HeyWatchWaitTimeout(_RedactedAirflowException):
    """The operator's wait for the download (or its encodes) exceeded ``timeout``."""


class HeyWatchWaitError(_RedactedAirflowException):
    """The state of the download could not be read (transport or API error, after the retries)."""


class HeyWatchEventError(_RedactedAirflowException):
    """A trigger event that is not one of the documented shapes (the task fails closed)."""


class HeyWatchInvalidParameter(AirflowFailException, HeyWatchValidationError):
    """A task parameter is wrong (detected before anything is sent).

    The task fails at once, without using its retries: a retry would fail the same way until the
    DAG is fixed. It is also a :class:`~airflow_heywatch.api.errors.HeyWatchValidationError`, with
    the same ``parameter`` and message.
    """

    def __init__(self, *args: str, parameter: str | None = None) -> None:
        HeyWatchValidationError.__init__(self, *args, parameter=parameter)


@contextmanager
def failing_on_invalid_parameters() -> Iterator[None]:
    """Turn a :class:`HeyWatchValidationError` raised inside into :class:`HeyWatchInvalidParameter`."""
    try:
        yield
    except HeyWatchInvalidParameter:
        raise
    except HeyWatchValidationError as error:
        raise HeyWatchInvalidParameter(error.message, parameter=error.parameter) from None
