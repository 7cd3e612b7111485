"""``HeyWatchCreateDownloadOperator``: submit ``POST /download`` (optionally with encoding outputs).

The operator fetches a source video into the HeyWatch account and, with ``outputs``, has it
encoded into several formats delivered to FTP, S3 or HTTP. It can return at once or wait for the
transfer or the encodes — blocking in the worker or deferred to the triggerer. A task retry
reuses the download created by an earlier try of the same task run.

Importing this module is cheap: no aiohttp, no XML parser, no media library.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal

from airflow.providers.common.compat.sdk import BaseOperator, conf

from airflow_heywatch.api import protocol
from airflow_heywatch.api.errors import HeyWatchNotFoundError, HeyWatchValidationError
from airflow_heywatch.api.options import ENCODING_OPTIONS, build_job_params, encode_encoding_options
from airflow_heywatch.api.redact import redact, redact_text
from airflow_heywatch.api.status import DownloadStatus, parse_download_status
from airflow_heywatch.exceptions import (
    HeyWatchDownloadFailed,
    HeyWatchWaitTimeout,
    failing_on_invalid_parameters,
)
from airflow_heywatch.links.heywatch import DOWNLOAD_URL_XCOM_KEY, HeyWatchDownloadLink
from airflow_heywatch.secrets import mask_url_secrets
from airflow_heywatch.sensors.polling import normalise_format_ids

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_heywatch.hooks.heywatch import HeyWatchHook

__all__ = ["DOWNLOAD_ID_XCOM_KEY", "RESERVED_PARAMETERS", "STATE_STORE_KEY", "HeyWatchCreateDownloadOperator"]

#: XCom key of the download id, pushed before any waiting.
DOWNLOAD_ID_XCOM_KEY = "download_id"
#: Key of the download id in Airflow 3.3's ``task_state_store`` (shared by all tries of a task run).
STATE_STORE_KEY = "heywatch_download_id"

#: Form parameters of ``POST /download`` (and the job options it accepts): a custom field may not
#: use one of these names.
RESERVED_PARAMETERS: frozenset[str] = frozenset(
    {
        "url",
        "title",
        "ping_url_after_transfer",
        "ping_url_if_error",
        "ping_url_after_encode",
        "automatic_encode",
        "max_length",
        "format_id",
        "default_format",
        "ftp_directive",
        "s3_directive",
        "http_upload_directive",
        "cf_directive",
        "encoding_options",
        "format",
    }
    | ENCODING_OPTIONS
)

_WAIT_CHOICES = (None, "transfer", "encode")
_PING_PARAMETERS = ("ping_url_after_transfer", "ping_url_if_error", "ping_url_after_encode")


def _default_deferrable() -> bool:
    return conf.getboolean("operators", "default_deferrable", fallback=False)


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class HeyWatchCreateDownloadOperator(BaseOperator):
    """Create a HeyWatch download (``POST /download``), optionally encoding it into several outputs.

    :param url: the source video (``http://``, ``https://`` or ``ftp://``). Templated.
    :param title: title of the resulting video. Templated.
    :param outputs: the encodes, in order: ``[{"format_id": 31, "ftp_directive": "ftp://…/flv"},
        {"format_id": 175, "ftp_directive": "ftp://…/mp4"}]`` (any of ``ftp_directive``,
        ``s3_directive``, ``http_upload_directive``). Implies ``automatic_encode=True`` unless
        ``automatic_encode=False`` is given. Templated.
    :param format_id: the raw alternative to ``outputs``: one id, a list or a comma-separated
        string. Templated.
    :param ftp_directive: with ``format_id``: one value for all formats or one per format (list or
        comma-separated). Templated. Same for ``s3_directive`` and ``http_upload_directive``.
    :param ping_url_after_transfer: URL HeyWatch pings when the transfer finished. Templated.
    :param ping_url_if_error: URL pinged on failure. Templated.
    :param ping_url_after_encode: URL pinged when an encode finished. Templated.
    :param custom_fields: extra form fields echoed back in the pings (``{"item_id": 12}``);
        names of API parameters are refused. Templated.
    :param automatic_encode: send ``automatic_encode``; ``None`` = ``True`` when outputs are
        given, otherwise not sent (the account setting applies).
    :param max_length: refuse sources longer than this many seconds.
    :param encoding_options: job encoding options such as ``{"keep_fps": True}``.
    :param wait_for_completion: ``None`` (return once submitted), ``"transfer"`` or ``"encode"``.
    :param poll_interval: seconds between two looks while waiting.
    :param timeout: seconds to wait at most (``None``: no limit); on expiry the try fails with
        :class:`~airflow_heywatch.exceptions.HeyWatchWaitTimeout` and task retries apply.
    :param deferrable: wait in the triggerer instead of the worker; default
        ``[operators] default_deferrable``.
    :param heywatch_conn_id: the HeyWatch connection. Templated.

    XCom: ``download_id`` (int) is pushed as soon as the download exists; the return value is the
    download (passwords redacted) plus ``format_ids`` (the requested formats in order) and, after
    waiting for ``"encode"``, ``encoded_videos``.
    """

    template_fields: Sequence[str] = (
        "url",
        "title",
        "outputs",
        "format_id",
        "ftp_directive",
        "s3_directive",
        "http_upload_directive",
        "ping_url_after_transfer",
        "ping_url_if_error",
        "ping_url_after_encode",
        "custom_fields",
        "heywatch_conn_id",
    )
    template_fields_renderers = {"outputs": "json", "custom_fields": "json"}
    ui_color = "#e8f1fb"
    operator_extra_links = (HeyWatchDownloadLink(),)

    def __init__(
        self,
        *,
        url: str,
        title: str | None = None,
        outputs: Sequence[Mapping[str, Any]] | None = None,
        format_id: int | str | Sequence[int | str] | None = None,
        ftp_directive: str | Sequence[str] | None = None,
        s3_directive: str | Sequence[str] | None = None,
        http_upload_directive: str | Sequence[str] | None = None,
        ping_url_after_transfer: str | None = None,
        ping_url_if_error: str | None = None,
        ping_url_after_encode: str | None = None,
        custom_fields: Mapping[str, Any] | None = None,
        automatic_encode: bool | None = None,
        max_length: int | None = None,
        encoding_options: Mapping[str, Any] | None = None,
        wait_for_completion: Literal["transfer", "encode"] | None = None,
        poll_interval: float = 10.0,
        timeout: float | None = None,
        deferrable: bool = _default_deferrable(),
        heywatch_conn_id: str = "heywatch_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if wait_for_completion not in _WAIT_CHOICES:
            raise HeyWatchValidationError(
                "wait_for_completion",
                f"wait_for_completion must be None, 'transfer' or 'encode', not {wait_for_completion!r}",
            )
        if automatic_encode is not None and not isinstance(automatic_encode, bool):
            raise HeyWatchValidationError(
                "automatic_encode", f"automatic_encode must be True, False or None, not {automatic_encode!r}"
            )
        if wait_for_completion == "encode" and automatic_encode is False:
            raise HeyWatchValidationError(
                "wait_for_completion",
                "wait_for_completion='encode' waits for encodes that automatic_encode=False prevents; "
                "drop one of them",
            )
        if (
            isinstance(poll_interval, bool)
            or not isinstance(poll_interval, (int, float))
            or poll_interval <= 0
        ):
            raise HeyWatchValidationError(
                "poll_interval", f"poll_interval must be a positive number of seconds, not {poll_interval!r}"
            )
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0
        ):
            raise HeyWatchValidationError(
                "timeout", f"timeout must be a positive number of seconds or None, not {timeout!r}"
            )
        self.url = url
        self.title = title
        self.outputs = outputs
        self.format_id = format_id
        self.ftp_directive = ftp_directive
        self.s3_directive = s3_directive
        self.http_upload_directive = http_upload_directive
        self.ping_url_after_transfer = ping_url_after_transfer
        self.ping_url_if_error = ping_url_if_error
        self.ping_url_after_encode = ping_url_after_encode
        self.custom_fields = custom_fields
        self.automatic_encode = automatic_encode
        self.max_length = max_length
        self.encoding_options = encoding_options
        self.wait_for_completion = wait_for_completion
        self.poll_interval = float(poll_interval)
        self.timeout = None if timeout is None else float(timeout)
        self.deferrable = deferrable
        self.heywatch_conn_id = heywatch_conn_id
        self._download_id: int | None = None
        #: The download's page once known; "" while this instance runs without one; None before.
        self._download_url: str | None = None

    # Templating and secrets -------------------------------------------------------------------

    def _secret_bearing_values(self) -> list[Any]:
        return [
            self.url,
            self.outputs,
            self.format_id,
            self.ftp_directive,
            self.s3_directive,
            self.http_upload_directive,
            self.ping_url_after_transfer,
            self.ping_url_if_error,
            self.ping_url_after_encode,
            self.custom_fields,
            self.encoding_options,
        ]

    def _do_render_template_fields(
        self,
        parent: Any,
        template_fields: Any,
        context: Any,
        jinja_env: Any,
        seen_oids: set[int],
    ) -> None:
        """Render, then register every URL credential with the secrets masker.

        This runs before Airflow stores the rendered fields. It is the step both a plain task
        (``render_template_fields``) and a mapped one (``MappedOperator`` renders through the
        unmapped operator's ``_do_render_template_fields``) go through, on Airflow 2 and 3.
        """
        super()._do_render_template_fields(parent, template_fields, context, jinja_env, seen_oids)
        if parent is self:
            mask_url_secrets(*self._secret_bearing_values())

    # Validation -------------------------------------------------------------------------------

    def _job_params(self) -> dict[str, str]:
        raw_given = any(
            value is not None
            for value in (self.format_id, self.ftp_directive, self.s3_directive, self.http_upload_directive)
        )
        if self.outputs is not None and raw_given:
            raise HeyWatchValidationError(
                "outputs",
                "give either outputs or the raw format_id/*_directive parameters, not both",
            )
        if self.outputs is not None:
            return build_job_params(self.outputs)
        if self.format_id is None and raw_given:
            raise HeyWatchValidationError(
                "format_id", "a directive was given without format_id; add format_id (or use outputs)"
            )
        if self.format_id is None:
            return {}
        params = {
            "format_id": self.format_id,
            "ftp_directive": self.ftp_directive,
            "s3_directive": self.s3_directive,
            "http_upload_directive": self.http_upload_directive,
        }
        return protocol.encode_form(params)

    def _custom_fields(self) -> dict[str, Any]:
        fields = self.custom_fields
        if fields is None:
            return {}
        if not isinstance(fields, Mapping):
            raise HeyWatchValidationError(
                "custom_fields",
                f"custom_fields must be a dict such as {{'item_id': 12}}, not {type(fields).__name__}",
            )
        result: dict[str, Any] = {}
        for name, value in fields.items():
            if not isinstance(name, str) or not name.strip() or any(c.isspace() or c in "=&" for c in name):
                raise HeyWatchValidationError(
                    "custom_fields", f"custom field name {name!r} is not usable; use names such as item_id"
                )
            if name in RESERVED_PARAMETERS:
                raise HeyWatchValidationError(
                    "custom_fields",
                    f"custom field {name!r} collides with the HeyWatch API parameter of that name; "
                    f"pass it as the operator argument instead, or rename the field",
                )
            if isinstance(value, (Mapping, list, tuple, set)):
                raise HeyWatchValidationError(
                    "custom_fields",
                    f"custom field {name!r} must be a string, a number or a boolean, "
                    f"not {type(value).__name__}",
                )
            result[name] = value
        return result

    def _form_params(self) -> dict[str, Any]:
        """Every form parameter except ``url``, validated; raises before anything is sent.

        A wrong parameter raises :class:`~airflow_heywatch.exceptions.HeyWatchInvalidParameter`,
        which fails the task without retries.
        """
        with failing_on_invalid_parameters():
            return self._validated_form_params()

    def _validated_form_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.title is not None:
            if not isinstance(self.title, str):
                raise HeyWatchValidationError(
                    "title", f"title must be a string, not {type(self.title).__name__}"
                )
            params["title"] = self.title
        for name in _PING_PARAMETERS:
            value = getattr(self, name)
            if value is None or value == "":
                continue
            if not isinstance(value, str) or not value.strip().lower().startswith(("http://", "https://")):
                raise HeyWatchValidationError(
                    name, f"{name} must be an http:// or https:// URL, got {redact(value)!r}"
                )
            params[name] = value.strip()
        job = self._job_params()
        automatic_encode = self.automatic_encode
        if automatic_encode is None and job:
            automatic_encode = True
        if automatic_encode is not None:
            params["automatic_encode"] = automatic_encode
        if self.max_length is not None:
            length = self.max_length
            if isinstance(length, str) and length.strip().isdigit():
                length = int(length.strip())
            if isinstance(length, bool) or not isinstance(length, int) or length <= 0:
                raise HeyWatchValidationError(
                    "max_length", f"max_length must be a positive number of seconds, not {self.max_length!r}"
                )
            params["max_length"] = length
        params.update(job)
        params.update(encode_encoding_options(self.encoding_options))
        params.update(self._custom_fields())
        # Builds (and so validates) the complete request, url included, without sending it.
        protocol.create_download(self.url, params, "json")
        return params

    def _format_ids(self, params: Mapping[str, Any]) -> list[int | str]:
        return normalise_format_ids(params.get("format_id"))

    # Execution --------------------------------------------------------------------------------

    def _hook(self) -> HeyWatchHook:
        from airflow_heywatch.hooks.heywatch import HeyWatchHook

        return HeyWatchHook(heywatch_conn_id=self.heywatch_conn_id)

    def execute(self, context: Context) -> dict[str, Any]:
        self._download_url = ""  # this instance ran: the extra link reads it instead of XCom
        mask_url_secrets(*self._secret_bearing_values())
        params = self._form_params()
        format_ids = self._format_ids(params)
        hook = self._hook()
        self.log.info(
            "Creating a HeyWatch download of %s with %s",
            redact_text(self.url),
            redact({k: v for k, v in params.items() if k != "title"}),
        )
        download = self._earlier_download(hook, context)
        if download is None:
            download = hook.create_download(self.url, **params)
            self._download_id = protocol.check_id("download_id", download.get("id"))
            self._remember(context, self._download_id)
            self.log.info("Created HeyWatch download %s", self._download_id)
        download_id = self._download_id
        assert download_id is not None
        self._publish(context, hook, download_id)

        if self.wait_for_completion is None:
            return self._result(redact(download), format_ids)
        wait_for_encoding = self.wait_for_completion == "encode"
        if self.deferrable:
            self._defer(download_id, wait_for_encoding, format_ids)
        value = self._wait(hook, download_id, wait_for_encoding, format_ids)
        return self._result(value, format_ids)

    def _result(self, value: Mapping[str, Any], format_ids: list[int | str]) -> dict[str, Any]:
        result = dict(value)
        result["format_ids"] = list(format_ids)
        return result

    def _publish(self, context: Context, hook: HeyWatchHook, download_id: int) -> None:
        ti = context["ti"]
        ti.xcom_push(key=DOWNLOAD_ID_XCOM_KEY, value=download_id)
        try:
            url = hook.download_url(download_id)
        except Exception as error:  # the link is a convenience: never fail the task for it
            self.log.warning("No link for download %s: %s", download_id, redact_text(str(error)))
        else:
            self._download_url = url
            ti.xcom_push(key=DOWNLOAD_URL_XCOM_KEY, value=url)

    # Retries: find the download of an earlier try ---------------------------------------------

    @staticmethod
    def _state_store(context: Context) -> Any:
        try:
            return context.get("task_state_store")  # Airflow >= 3.3
        except Exception:
            return None

    def _remember(self, context: Context, download_id: int) -> None:
        store = self._state_store(context)
        if store is None:
            return
        try:
            store.set(STATE_STORE_KEY, download_id)
        except Exception as error:
            self.log.warning(
                "Could not record download %s in the task state store (a retry will look it up "
                "by url, title and creation time): %s",
                download_id,
                redact_text(str(error)),
            )

    def _earlier_download(self, hook: HeyWatchHook, context: Context) -> dict[str, Any] | None:
        """The download an earlier try of this task run created, if it can be reused.

        Reused: a download that is pending, downloading or finished. Not reused (a new one is
        submitted): one that ended in ``error`` or no longer exists.
        """
        store = self._state_store(context)
        stored_id = None
        if store is not None:
            try:
                stored_id = store.get(STATE_STORE_KEY)
            except Exception as error:
                self.log.warning("Could not read the task state store: %s", redact_text(str(error)))
        candidate: dict[str, Any] | None = None
        how = ""
        if stored_id:
            how = "recorded in the task state store"
            try:
                candidate = hook.get_download(stored_id)
            except HeyWatchNotFoundError:
                self.log.info(
                    "Download %s of an earlier try no longer exists; submitting a new one", stored_id
                )
                return None
        elif getattr(context.get("ti"), "try_number", 1) > 1:
            how = "found by url, title and creation time"
            candidate = self._find_by_url(hook, context)
        if candidate is None:
            return None
        status = parse_download_status(candidate.get("status"))
        if status is DownloadStatus.ERROR:
            failure = HeyWatchDownloadFailed(
                candidate.get("id"),
                error_code=candidate.get("error_code"),
                error_msg=candidate.get("error_msg"),
            )
            self.log.info("The earlier try's download ended in error (%s); submitting a new one", failure)
            return None
        self._download_id = protocol.check_id("download_id", candidate.get("id"))
        self._remember(context, self._download_id)
        self.log.info(
            "Reusing HeyWatch download %s created by an earlier try of this task run (%s; status %s)",
            self._download_id,
            how,
            status,
        )
        return candidate

    def _find_by_url(self, hook: HeyWatchHook, context: Context) -> dict[str, Any] | None:
        """The newest download with this url (and title) created since the DAG run started."""
        dag_run = context.get("dag_run")
        started = _parse_time(getattr(dag_run, "start_date", None))
        if started is None:
            return None
        # HeyWatch dates have whole seconds.
        since = started.replace(microsecond=0) - timedelta(seconds=1)
        url = self.url.strip()
        matches = []
        for download in hook.list_downloads():
            created = _parse_time(download.get("created_at"))
            if download.get("url") != url or created is None or created < since:
                continue
            if self.title is not None and download.get("title") != self.title:
                continue
            matches.append((created, int(download.get("id") or 0), download))
        if not matches:
            return None
        matches.sort(key=lambda item: (item[0], item[1]))
        return matches[-1][2]

    # Waiting ----------------------------------------------------------------------------------

    def _defer(self, download_id: int, wait_for_encoding: bool, format_ids: list[int | str]) -> None:
        from airflow_heywatch.triggers.download import HeyWatchDownloadTrigger

        end_time = None if self.timeout is None else time.time() + self.timeout
        self.defer(
            trigger=HeyWatchDownloadTrigger(
                download_id=download_id,
                heywatch_conn_id=self.heywatch_conn_id,
                poll_interval=self.poll_interval,
                wait_for_encoding=wait_for_encoding,
                format_ids=format_ids,
                end_time=end_time,
            ),
            method_name="execute_complete",
            kwargs={"download_id": download_id, "format_ids": format_ids},
            timeout=None
            if self.timeout is None
            else timedelta(seconds=self.timeout + self.poll_interval + 60),
        )

    def execute_complete(
        self,
        context: Context,
        event: Any = None,
        download_id: int | None = None,
        format_ids: list[int | str] | None = None,
    ) -> dict[str, Any]:
        """Resume from the trigger's event (see :func:`~airflow_heywatch.triggers.events.resolve_event`).

        ``download_id`` and ``format_ids`` come from the deferral's kwargs when Airflow passes
        them on; otherwise from the XCom pushed before deferring and the (rendered) parameters.
        """
        from airflow_heywatch.triggers.events import resolve_event

        ti = context["ti"]
        if download_id is None:
            map_index = getattr(ti, "map_index", -1)
            download_id = ti.xcom_pull(
                task_ids=self.task_id,
                key=DOWNLOAD_ID_XCOM_KEY,
                map_indexes=-1 if map_index is None else map_index,
            )
        download_id = protocol.check_id("download_id", download_id)
        if format_ids is None:
            format_ids = self._format_ids(self._form_params())
        self._download_id = download_id
        value = resolve_event(
            event, download_id=download_id, wait_for_encoding=self.wait_for_completion == "encode"
        )
        ti.xcom_push(key=DOWNLOAD_ID_XCOM_KEY, value=download_id)
        return self._result(value, list(format_ids))

    def _wait(
        self, hook: HeyWatchHook, download_id: int, wait_for_encoding: bool, format_ids: list[int | str]
    ) -> dict[str, Any]:
        from airflow_heywatch.sensors.polling import poll_download

        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        while True:
            poll = poll_download(
                hook, download_id, wait_for_encoding=wait_for_encoding, format_ids=format_ids
            )
            if poll.verdict.done:
                self.log.info("%s", redact_text(poll.verdict.reason))
                return poll.xcom_value(wait_for_encoding=wait_for_encoding)
            if poll.verdict.failed and poll.verdict.failure is not None:
                raise HeyWatchDownloadFailed.from_failure(poll.verdict.failure, download_id)
            self.log.info("%s", poll.message)
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise HeyWatchWaitTimeout(
                    f"HeyWatch download {download_id} did not finish"
                    f"{' encoding' if wait_for_encoding else ''} within {self.timeout:g} s "
                    f"(last state: {poll.message})"
                )
            time.sleep(self.poll_interval if remaining is None else min(self.poll_interval, remaining))

    # Kill -------------------------------------------------------------------------------------

    def on_kill(self) -> None:
        """Best effort: delete the download if it is still ``pending`` (never raises)."""
        download_id = self._download_id
        if download_id is None:
            return
        try:
            hook = self._hook()
            download = hook.get_download(download_id)
            if parse_download_status(download.get("status")) is DownloadStatus.PENDING:
                hook.delete_download(download_id)
                self.log.info("Deleted pending HeyWatch download %s", download_id)
        except Exception as error:
            self.log.warning(
                "Could not delete HeyWatch download %s: %s", download_id, redact_text(str(error))
            )
