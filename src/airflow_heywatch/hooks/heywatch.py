"""``HeyWatchHook``: the HeyWatch v1 API over one ``requests`` session.

Only the I/O lives here. Which path, headers and form a call sends, whether a failure is worth
another attempt and how an answer is decoded are decided by :mod:`airflow_heywatch.api.protocol`,
which the async hook shares.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import requests
from airflow.providers.common.compat.sdk import mask_secret
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

from airflow_heywatch.api import protocol
from airflow_heywatch.api.errors import HeyWatchError
from airflow_heywatch.api.protocol import ApiRequest, ConnectionSettings, RetryPolicy
from airflow_heywatch.get_provider_info import CONN_TYPE, DEFAULT_CONN_ID, get_provider_info
from airflow_heywatch.hooks.base import HeyWatchBaseHook

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["HeyWatchHook", "connection_form_widgets", "ui_field_behaviour"]

#: Transport failures worth another attempt (subject to the retry policy).
_RETRYABLE_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def _never_sent(error: BaseException) -> bool:
    """True when ``error`` proves the request never reached the server (refused, DNS, connect timeout)."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(error, requests.exceptions.SSLError):
        return False
    if isinstance(error, requests.exceptions.ConnectionError):
        reason = error.args[0] if error.args else None
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        # NewConnectionError and NameResolutionError are ConnectTimeoutError subclasses.
        return isinstance(reason, ConnectTimeoutError)
    return False


def _describe_error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def ui_field_behaviour() -> dict[str, Any]:
    """The connection form's hidden fields, labels and placeholders (declared in provider info)."""
    declared = _connection_type_info()["ui-field-behaviour"]
    return {
        "hidden_fields": list(declared.get("hidden-fields", [])),
        "relabeling": dict(declared.get("relabeling", {})),
        "placeholders": dict(declared.get("placeholders", {})),
    }


def connection_form_widgets() -> dict[str, Any]:
    """The extra fields of the connection form for Airflow < 3.2 (empty without wtforms)."""
    try:
        from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import BooleanField, IntegerField, StringField
        from wtforms.validators import AnyOf, NumberRange, Optional
    except ImportError:
        return {}
    # Airflow 2 accepts only StringField, IntegerField, PasswordField and BooleanField here.
    fields = _connection_type_info()["conn-fields"]
    return {
        "format": StringField(
            lazy_gettext(fields["format"]["label"]),
            widget=BS3TextFieldWidget(),
            validators=[Optional(), AnyOf(list(protocol.FORMATS))],
            default="json",
            description=fields["format"]["description"],
        ),
        "timeout": IntegerField(
            lazy_gettext(fields["timeout"]["label"]),
            widget=BS3TextFieldWidget(),
            validators=[Optional(), NumberRange(min=1)],
            default=int(protocol.DEFAULT_TIMEOUT),
            description=fields["timeout"]["description"],
        ),
        "verify": BooleanField(
            lazy_gettext(fields["verify"]["label"]),
            default=True,
            description=fields["verify"]["description"],
        ),
    }


def _connection_type_info() -> dict[str, Any]:
    for entry in get_provider_info()["connection-types"]:
        if entry["connection-type"] == CONN_TYPE:
            return entry
    raise LookupError(f"provider info declares no {CONN_TYPE!r} connection type")


class HeyWatchHook(HeyWatchBaseHook):
    """Talks to the HeyWatch v1 API (or the local emulator) with the credentials of a connection.

    The connection (type ``heywatch``): host = base URL (``https://heywatch.com`` when empty;
    ``http://127.0.0.1:8080`` for a local server), login and password = HTTP Basic credentials,
    extras ``format`` (``json``/``xml``), ``timeout`` (seconds, default 30) and ``verify``.

    One ``requests.Session`` serves every call of the hook; every request has a timeout;
    GET/DELETE are retried on connection errors, timeouts, 5xx and 429, a POST only when it
    never reached the server (see :class:`~airflow_heywatch.api.protocol.RetryPolicy`).
    Every method returns the decoded answer as plain dicts and lists, identical for JSON and XML.

    :param heywatch_conn_id: the Airflow connection to use.
    :param retry_policy: how often and how long to retry; default ``RetryPolicy()``.
    """

    conn_type = CONN_TYPE
    hook_name = "HeyWatch"

    def __init__(
        self,
        heywatch_conn_id: str = DEFAULT_CONN_ID,
        *,
        retry_policy: RetryPolicy | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(heywatch_conn_id, retry_policy=retry_policy, **kwargs)
        self._session: requests.Session | None = None
        self._settings: ConnectionSettings | None = None
        self._login: str = ""

    # Connection form (Airflow < 3.2; 3.2+ reads provider info) --------------------------------

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return ui_field_behaviour()

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        return connection_form_widgets()

    # Session ----------------------------------------------------------------------------------

    def _load(self) -> tuple[requests.Session, ConnectionSettings]:
        if self._session is None or self._settings is None:
            conn = self.get_connection(self.heywatch_conn_id)
            for secret in protocol.basic_auth_secrets(conn.login, conn.password):
                mask_secret(secret)
            settings = protocol.connection_settings(conn.host, conn.schema, conn.port, conn.extra_dejson)
            session = requests.Session()
            session.auth = (conn.login or "", conn.password or "")
            session.verify = settings.verify
            self._login = conn.login or ""
            self._settings = settings
            self._session = session
        return self._session, self._settings

    def get_conn(self) -> requests.Session:
        """The hook's ``requests.Session`` (created on first use, then reused)."""
        return self._load()[0]

    @property
    def settings(self) -> ConnectionSettings:
        """Base URL, format, timeout and TLS verification read from the connection."""
        return self._load()[1]

    @property
    def base_url(self) -> str:
        """The API base URL, e.g. ``https://heywatch.com`` or ``http://127.0.0.1:8080``."""
        return self.settings.base_url

    @property
    def fmt(self) -> str:
        """The representation asked of the API: ``json`` or ``xml``."""
        return self.settings.fmt

    def download_url(self, download_id: int | str) -> str:
        """The web page of a download on the HeyWatch site."""
        return f"{self.base_url}/download/{protocol.check_id('download_id', download_id)}"

    def close(self) -> None:
        """Close the session's pooled connections. The hook opens a new session if used again."""
        if self._session is not None:
            self._session.close()
        self._session = None
        self._settings = None

    def __enter__(self) -> HeyWatchHook:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # Sending ----------------------------------------------------------------------------------

    def send(self, request: ApiRequest, *, retry_policy: RetryPolicy | None = None) -> Any:
        """Send ``request``, retrying as the policy allows, and return the decoded answer."""
        session, settings = self._load()
        policy = retry_policy or self.retry_policy
        url = settings.base_url + request.path
        attempt = 0
        while True:
            attempt += 1
            try:
                response = session.request(
                    request.method,
                    url,
                    data=request.form or None,
                    headers=request.headers,
                    timeout=settings.timeout,
                    allow_redirects=request.method == "GET",
                )
            except requests.exceptions.RequestException as error:
                retryable = isinstance(error, _RETRYABLE_ERRORS) and not isinstance(
                    error, requests.exceptions.SSLError
                )
                sent = not _never_sent(error)
                delay = (
                    policy.delay_before_retry(request, attempt, error=error, sent=sent) if retryable else None
                )
                if delay is None:
                    raise protocol.transport_error(
                        request,
                        settings.base_url,
                        attempt,
                        _describe_error(error),
                        tls_refused=isinstance(error, requests.exceptions.SSLError),
                        retryable=retryable,
                        sent=sent,
                    ) from error
                self.log.warning(
                    protocol.RETRY_AFTER_ERROR_LOG,
                    request,
                    _describe_error(error),
                    delay,
                    attempt + 1,
                    policy.max_attempts,
                )
                time.sleep(delay)
                continue

            status = response.status_code
            body = response.content
            if policy.is_retryable_status(status):
                retry_after = protocol.parse_retry_after(response.headers.get("Retry-After"))
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
                    time.sleep(delay)
                    continue
            return protocol.interpret_response(request, status, body, response.headers, attempts=attempt)

    # Account ----------------------------------------------------------------------------------

    def get_account(self) -> dict[str, Any]:
        """``GET /account``: the account's login, names, settings."""
        return self.send(protocol.get_account(self.fmt))

    def test_connection(self) -> tuple[bool, str]:
        """Read the account with the connection's credentials (one attempt, no retries)."""
        try:
            request = protocol.get_account(self.fmt)
            account = self.send(request, retry_policy=RetryPolicy(max_attempts=1))
        except HeyWatchError as error:
            return False, str(error)
        login = account.get("login") if isinstance(account, dict) else None
        return True, f"Connected to HeyWatch at {self.base_url} as {login or self._login or 'unknown user'}"

    # Downloads --------------------------------------------------------------------------------

    def list_downloads(self) -> list[dict[str, Any]]:
        return self.send(protocol.list_downloads(self.fmt)) or []

    def get_download(self, download_id: int | str) -> dict[str, Any]:
        return self.send(protocol.get_download(download_id, self.fmt))

    def create_download(self, url: str, **params: Any) -> dict[str, Any]:
        """``POST /download``: fetch ``url`` (http, https or ftp) into the account.

        ``params`` are further form parameters: ``title``, ``ping_url_after_transfer``,
        ``ping_url_if_error``, ``automatic_encode``, ``format_id``, directives, custom fields…
        Booleans are sent as ``true``/``false``; ``None`` values are left out.
        """
        return self.send(protocol.create_download(url, params, self.fmt))

    def delete_download(self, download_id: int | str) -> None:
        return self.send(protocol.delete_download(download_id, self.fmt))

    # Videos -----------------------------------------------------------------------------------

    def list_videos(self) -> list[dict[str, Any]]:
        return self.send(protocol.list_videos(self.fmt)) or []

    def get_video(self, video_id: int | str) -> dict[str, Any]:
        return self.send(protocol.get_video(video_id, self.fmt))

    def delete_video(self, video_id: int | str) -> None:
        return self.send(protocol.delete_video(video_id, self.fmt))

    # Jobs -------------------------------------------------------------------------------------

    def list_jobs(self) -> list[dict[str, Any]]:
        return self.send(protocol.list_jobs(self.fmt)) or []

    def get_job(self, job_id: int | str) -> dict[str, Any]:
        return self.send(protocol.get_job(job_id, self.fmt))

    def create_job(self, video_id: int | str, format_id: Any, **params: Any) -> dict[str, Any]:
        """``POST /job``: encode ``video_id`` into ``format_id`` (an id or a list of ids)."""
        return self.send(protocol.create_job(video_id, format_id, params, self.fmt))

    def cancel_job(self, job_id: int | str) -> None:
        """``DELETE /job/ID``: cancel a job that is still pending."""
        return self.send(protocol.cancel_job(job_id, self.fmt))

    # Encoded videos ---------------------------------------------------------------------------

    def list_encoded_videos(self) -> list[dict[str, Any]]:
        return self.send(protocol.list_encoded_videos(self.fmt)) or []

    def get_encoded_video(self, encoded_video_id: int | str) -> dict[str, Any]:
        return self.send(protocol.get_encoded_video(encoded_video_id, self.fmt))

    def delete_encoded_video(self, encoded_video_id: int | str) -> None:
        return self.send(protocol.delete_encoded_video(encoded_video_id, self.fmt))

    # Formats ----------------------------------------------------------------------------------

    def list_formats(self) -> list[dict[str, Any]]:
        return self.send(protocol.list_formats(self.fmt)) or []

    def get_format(self, format_id: int | str) -> dict[str, Any]:
        return self.send(protocol.get_format(format_id, self.fmt))

    def create_format(self, **params: Any) -> dict[str, Any]:
        """``POST /format``: a new encoding profile (``name``, ``container``, ``video_codec``…)."""
        return self.send(protocol.create_format(params, self.fmt))
