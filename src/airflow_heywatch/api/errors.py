"""The HeyWatch error-code table and the exception hierarchy of the package.

Every exception raised by the package derives from :class:`HeyWatchError`. Texts never carry
credentials: URLs with a password in their userinfo are masked before they reach a message.
"""

from __future__ import annotations

from typing import Any

from airflow_heywatch.api.redact import redact_text as _mask

__all__ = [
    "ERROR_CODES",
    "HeyWatchAPIError",
    "HeyWatchAuthError",
    "HeyWatchBadRequestError",
    "HeyWatchDecodeError",
    "HeyWatchError",
    "HeyWatchNotAcceptableError",
    "HeyWatchNotFoundError",
    "HeyWatchRateLimitError",
    "HeyWatchRemoteFailure",
    "HeyWatchServerError",
    "HeyWatchTransportError",
    "HeyWatchValidationError",
    "api_error",
    "describe_error_code",
]

#: The documented ``error_code`` values of downloads, jobs and error pings (HEYWATCH_API.md §1.7).
ERROR_CODES: dict[int, str] = {
    100: "Unknown error",
    101: "Unsupported audio codec",
    102: "Unsupported video codec",
    103: "This video cannot be encoded in this format",
    104: "Wrong settings for audio",
    105: "Wrong settings for video",
    106: "Cannot retrieve info from this video",
    107: "Not a video file",
    108: "Video too long",
    109: "Unsupported video container",
    110: "The audio can't be resampled",
    201: "404 Not Found (source URL gave 404)",
    202: "Bad address",
    300: "No more credit available",
    301: "Not enough credits",
}


def _rebuild(cls: type[Exception], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Exception:
    """Unpickle an exception whose constructor takes keyword arguments."""
    return cls(*args, **kwargs)


def describe_error_code(code: int | str | None) -> str:
    """The documented meaning of a HeyWatch ``error_code``.

    ``None`` (no code) gives ``"no error code"``; a code outside the table gives
    ``"undocumented error code N"``.
    """
    if code is None or (isinstance(code, str) and not code.strip()):
        return "no error code"
    try:
        number = int(str(code).strip())
    except ValueError:
        return f"undocumented error code {code}"
    return ERROR_CODES.get(number, f"undocumented error code {number}")


class HeyWatchError(Exception):
    """Base class of every error raised by airflow-heywatch."""


class HeyWatchValidationError(HeyWatchError, ValueError):
    """Bad input detected client-side, before anything is sent.

    Call as ``HeyWatchValidationError(parameter, message)`` or
    ``HeyWatchValidationError(message, parameter=...)``. The text always names the parameter.
    """

    def __init__(self, *args: str, parameter: str | None = None) -> None:
        if parameter is None and len(args) == 2:
            parameter, message = args
        elif len(args) == 1:
            message = args[0]
        else:
            raise TypeError("HeyWatchValidationError(parameter, message) or (message, parameter=...)")
        self.parameter: str | None = parameter
        message = _mask(str(message))
        if parameter and parameter not in message:
            message = f"{parameter}: {message}"
        self.message = message
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message,), {"parameter": self.parameter})


class HeyWatchAPIError(HeyWatchError):
    """The server answered with an HTTP error status."""

    def __init__(
        self,
        status: int,
        message: str = "",
        *,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.status = int(status)
        self.message = _mask(message or "")
        self.method = method
        self.path = path
        super().__init__(self._text())

    def __reduce__(self) -> tuple[Any, ...]:
        kwargs = {k: v for k, v in self.__dict__.items() if k not in ("status", "message")}
        return (_rebuild, (type(self), (self.status, self.message), kwargs))

    def _text(self) -> str:
        where = " ".join(part for part in (self.method, self.path) if part)
        text = f"HTTP {self.status}"
        if where:
            text = f"{where} answered {text}"
        if self.message:
            text = f"{text}: {self.message}"
        return text


class HeyWatchAuthError(HeyWatchAPIError):
    """401: the login or password of the HeyWatch connection was refused."""

    def _text(self) -> str:
        return (
            f"{super()._text()} (authentication failed: check the login and password "
            "of the HeyWatch connection)"
        )


class HeyWatchNotFoundError(HeyWatchAPIError):
    """404: the resource does not exist (or is not available to this account)."""

    def __init__(
        self,
        status: int = 404,
        message: str = "",
        *,
        method: str | None = None,
        path: str | None = None,
        resource: str | None = None,
        resource_id: int | str | None = None,
    ) -> None:
        self.resource = resource
        self.resource_id = resource_id
        super().__init__(status, message, method=method, path=path)

    def _text(self) -> str:
        text = super()._text()
        if self.resource and self.resource_id is not None:
            text = f"{text} ({self.resource} {self.resource_id} not found)"
        return text


class HeyWatchBadRequestError(HeyWatchAPIError):
    """400: the server refused the request; ``message`` holds its reason."""


class HeyWatchNotAcceptableError(HeyWatchAPIError):
    """406: the requested representation (JSON/XML) is not available."""


class HeyWatchRateLimitError(HeyWatchAPIError):
    """429: too many requests (still so after the retries)."""


class HeyWatchServerError(HeyWatchAPIError):
    """5xx: the server failed (still so after the retries)."""


def api_error(
    status: int,
    message: str = "",
    *,
    method: str | None = None,
    path: str | None = None,
    resource: str | None = None,
    resource_id: int | str | None = None,
) -> HeyWatchAPIError:
    """The :class:`HeyWatchAPIError` subclass instance that matches an HTTP error ``status``."""
    status = int(status)
    if status == 404:
        return HeyWatchNotFoundError(
            status, message, method=method, path=path, resource=resource, resource_id=resource_id
        )
    classes: dict[int, type[HeyWatchAPIError]] = {
        400: HeyWatchBadRequestError,
        401: HeyWatchAuthError,
        406: HeyWatchNotAcceptableError,
        429: HeyWatchRateLimitError,
    }
    cls = classes.get(status) or (HeyWatchServerError if status >= 500 else HeyWatchAPIError)
    return cls(status, message, method=method, path=path)


class HeyWatchTransportError(HeyWatchError):
    """The server could not be reached (connection error or timeout), after the retries."""


class HeyWatchDecodeError(HeyWatchError):
    """A response body that is neither the expected JSON nor the expected XML."""


class HeyWatchRemoteFailure(HeyWatchError):
    """A download or a job that ended in the ``error`` state on the server.

    Text: ``download 12 failed: error 201 (404 Not Found (source URL gave 404)): <error_msg>``.
    """

    def __init__(
        self,
        resource: str,
        resource_id: int | str | None,
        error_code: int | str | None = None,
        error_msg: str | None = None,
    ) -> None:
        self.resource = resource
        self.resource_id = resource_id
        self.error_code: Any = error_code
        self.error_msg = _mask(error_msg) if error_msg else error_msg
        text = f"{resource} {resource_id} failed: "
        if error_code is None or (isinstance(error_code, str) and not error_code.strip()):
            text += "no error code"
        else:
            text += f"error {error_code} ({describe_error_code(error_code)})"
        if self.error_msg:
            text += f": {self.error_msg}"
        super().__init__(text)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.resource, self.resource_id, self.error_code, self.error_msg))
