"""The HeyWatch v1 HTTP API (aiohttp): routing, Basic auth, representations, resource handlers."""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import json
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from aiohttp import web

from airflow_heywatch.api.serialize import error_json, error_xml, to_json, to_xml
from airflow_heywatch.emulator.config import EmulatorConfig
from airflow_heywatch.emulator.faults import fault_middleware
from airflow_heywatch.emulator.negotiate import API_PATH, choose
from airflow_heywatch.emulator.params import (
    BadRequest,
    OutputRequest,
    custom_fields,
    parse_bool,
    parse_encoding_options,
    parse_format,
    parse_int,
    parse_outputs,
)
from airflow_heywatch.emulator.state import State
from airflow_heywatch.emulator.store import Download, now

__all__ = ["STATE", "create_app"]

STATE = web.AppKey("heywatch_emulator_state", State)

_JSON = "application/json"
_XML = "application/xml"
_REALM = 'Basic realm="Web Password"'


class NotFound(Exception):
    """A resource id that does not exist (404)."""


@dataclass
class Call:
    """One authenticated API request, ready for a resource handler."""

    request: web.Request
    state: State
    representation: str
    resource: str
    id: int | None
    params: dict[str, str]

    @property
    def base_url(self) -> str:
        return f"{self.request.scheme}://{self.request.host}"

    def reply(self, data: Any, status: int = 200, resource: str | None = None) -> web.Response:
        resource = resource or self.resource
        if self.representation == "xml":
            return web.Response(
                status=status, body=to_xml(resource, data), content_type=_XML, charset="utf-8"
            )
        return web.Response(status=status, body=to_json(data), content_type=_JSON, charset="utf-8")

    def created(self, data: Any, location: str) -> web.Response:
        response = self.reply(data, status=201)
        response.headers["Location"] = f"{self.base_url}{location}"
        return response


def _error(
    representation: str | None, status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    if representation == "xml":
        return web.Response(
            status=status, body=error_xml(message), content_type=_XML, charset="utf-8", headers=headers
        )
    return web.Response(
        status=status, body=error_json(message), content_type=_JSON, charset="utf-8", headers=headers
    )


def _authorized(request: web.Request, config: EmulatorConfig) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return False
    try:
        login, _, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return hmac.compare_digest(login.encode(), config.login.encode()) and hmac.compare_digest(
        password.encode(), config.password.encode()
    )


def _unauthorized(representation: str | None) -> web.Response:
    return _error(representation, 401, "HTTP Basic: Access denied.", {"WWW-Authenticate": _REALM})


# --------------------------------------------------------------------------- account


async def account_get(call: Call) -> web.Response:
    return call.reply(call.state.store.account())


_ACCOUNT_SETTINGS = (
    "ping_url_after_transfer",
    "ping_url_after_encode",
    "ping_url_if_error",
    "ftp_directive",
    "s3_directive",
    "http_upload_directive",
    "env",
)


async def account_put(call: Call) -> web.Response:
    store = call.state.store
    params = {k[5:-1] if k.startswith("user[") and k.endswith("]") else k: v for k, v in call.params.items()}
    automatic = parse_bool(params, "automatic_encode")
    if automatic is not None:
        store.automatic_encode = automatic
    default_format = parse_int(params, "default_format")
    if default_format is not None:
        if default_format not in store.formats:
            raise BadRequest(f"Format {default_format} does not exist")
        store.default_format = default_format
    for name in _ACCOUNT_SETTINGS:
        if name in params:
            store.settings[name] = params[name] or None
    store.updated_at = now()
    return web.Response(status=204)


# --------------------------------------------------------------------------- download


def _check_url(name: str, value: str | None, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme.lower() not in schemes or not parts.netloc:
        raise BadRequest(f"{name} is invalid: expected an {' or '.join(schemes)} URL")
    return value


async def download_list(call: Call) -> web.Response:
    return call.reply([d.public(call.base_url) for d in call.state.store.downloads.values()])


def _download(call: Call) -> Download:
    download = call.state.store.downloads.get(call.id or 0)
    if download is None:
        raise NotFound
    return download


async def download_get(call: Call) -> web.Response:
    return call.reply(_download(call).public(call.base_url))


async def download_create(call: Call) -> web.Response:
    state, params = call.state, call.params
    url = (params.get("url") or "").strip()
    if not url:
        raise BadRequest("No URL submitted.")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https", "ftp") or not parts.hostname:
        raise BadRequest("Url is invalid")
    max_length = parse_int(params, "max_length")
    if max_length is not None and max_length <= 0:
        raise BadRequest("max_length must be a positive number of seconds")
    outputs = parse_outputs(params, state.store.formats, state.store.default_format)
    automatic = parse_bool(params, "automatic_encode")
    if automatic is None:
        automatic = bool(outputs) or state.store.automatic_encode
    if automatic and not outputs:
        outputs = parse_outputs(
            {**params, "format_id": str(state.store.default_format)},
            state.store.formats,
            state.store.default_format,
        )
    title = params.get("title") or Path(unquote(parts.path)).stem or parts.hostname
    download = Download(
        id=state.store.next_id("download"),
        url=url,
        title=title,
        custom_fields=custom_fields(params),
        ping_url_after_transfer=_check_url("ping_url_after_transfer", params.get("ping_url_after_transfer")),
        ping_url_if_error=_check_url("ping_url_if_error", params.get("ping_url_if_error")),
        ping_url_after_encode=_check_url("ping_url_after_encode", params.get("ping_url_after_encode")),
        max_length=max_length,
        automatic_encode=automatic,
        outputs=outputs,
        encoding_options=parse_encoding_options(params),
    )
    state.store.downloads[download.id] = download
    state.pipeline.submit_download(download)
    return call.created(download.public(call.base_url), f"/download/{download.id}")


async def download_delete(call: Call) -> web.Response:
    download = _download(call)
    del call.state.store.downloads[download.id]
    return web.Response(status=204)


# --------------------------------------------------------------------------- video / encoded_video


def _record(call: Call) -> Any:
    store = call.state.store
    records = store.videos if call.resource == "video" else store.encoded_videos
    record = records.get(call.id or 0)
    if record is None:
        raise NotFound
    return record


async def media_list(call: Call) -> web.Response:
    store = call.state.store
    records = store.videos if call.resource == "video" else store.encoded_videos
    return call.reply([r.public(call.base_url) for r in records.values()])


async def media_get(call: Call) -> web.Response:
    record = _record(call)
    if call.representation == "bin":
        location = f"{call.base_url}/_files/{call.resource}/{record.id}/{record.filename}"
        raise web.HTTPFound(location)
    return call.reply(record.public(call.base_url))


async def media_update(call: Call) -> web.Response:
    record = _record(call)
    if call.params.get("title"):
        record.title = call.params["title"]
        record.updated_at = now()
    return web.Response(status=204)


async def media_delete(call: Call) -> web.Response:
    record = _record(call)
    store = call.state.store
    records = store.videos if call.resource == "video" else store.encoded_videos
    del records[record.id]
    shutil.rmtree(record.path.parent, ignore_errors=True)
    return web.Response(status=204)


# --------------------------------------------------------------------------- job


def _job(call: Call) -> Any:
    job = call.state.store.jobs.get(call.id or 0)
    if job is None:
        raise NotFound
    return job


async def job_list(call: Call) -> web.Response:
    return call.reply([j.public(call.base_url) for j in call.state.store.jobs.values()])


async def job_get(call: Call) -> web.Response:
    return call.reply(_job(call).public(call.base_url))


async def job_create(call: Call) -> web.Response:
    state, params = call.state, call.params
    video_id = parse_int(params, "video_id")
    if video_id is None:
        raise BadRequest("No video submitted: give video_id")
    if video_id not in state.store.videos:
        raise BadRequest(f"Video {video_id} does not exist")
    outputs: list[OutputRequest] = parse_outputs(
        params, state.store.formats, state.store.default_format, required=True
    )
    if len(outputs) > 1:
        raise BadRequest("format_id takes one format on /job; use /download for several formats at once")
    job = state.create_job(
        video_id=video_id,
        output=outputs[0],
        encoding_options=parse_encoding_options(params),
        ping_url_after_encode=_check_url("ping_url_after_encode", params.get("ping_url_after_encode")),
        ping_url_if_error=_check_url("ping_url_if_error", params.get("ping_url_if_error")),
    )
    state.pipeline.submit_job(job)
    return call.created(job.public(call.base_url), f"/job/{job.id}")


async def job_cancel(call: Call) -> web.Response:
    job = _job(call)
    if job.status != "pending":
        raise BadRequest(f"Job {job.id} can't be cancelled: it is {job.status} (only pending jobs can be)")
    del call.state.store.jobs[job.id]
    return web.Response(status=204)


# --------------------------------------------------------------------------- format


def _format(call: Call) -> dict[str, Any]:
    fmt = call.state.store.formats.get(call.id or 0)
    if fmt is None:
        raise NotFound
    return fmt


async def format_list(call: Call) -> web.Response:
    return call.reply(list(call.state.store.formats.values()))


async def format_get(call: Call) -> web.Response:
    return call.reply(_format(call))


async def format_create(call: Call) -> web.Response:
    store = call.state.store
    fmt = {"id": store.next_id("format"), **parse_format(call.params), "owner": True}
    store.formats[fmt["id"]] = fmt
    return call.created(fmt, f"/format/{fmt['id']}")


def _own_format(call: Call) -> dict[str, Any]:
    fmt = _format(call)
    if not fmt["owner"]:
        raise BadRequest(f"Format {fmt['id']} is a public format; only your own formats can be changed")
    return fmt


async def format_update(call: Call) -> web.Response:
    fmt = _own_format(call)
    fmt.update(parse_format({**{k: str(v) for k, v in fmt.items()}, **call.params}))
    return web.Response(status=204)


async def format_delete(call: Call) -> web.Response:
    fmt = _own_format(call)
    del call.state.store.formats[fmt["id"]]
    return web.Response(status=204)


Route = Callable[[Call], Awaitable[web.StreamResponse]]

# (resource, has id, method) → handler
ROUTES: dict[tuple[str, bool, str], Route] = {
    ("account", False, "GET"): account_get,
    ("account", False, "PUT"): account_put,
    ("download", False, "GET"): download_list,
    ("download", False, "POST"): download_create,
    ("download", True, "GET"): download_get,
    ("download", True, "DELETE"): download_delete,
    ("video", False, "GET"): media_list,
    ("video", True, "GET"): media_get,
    ("video", True, "PUT"): media_update,
    ("video", True, "DELETE"): media_delete,
    ("encoded_video", False, "GET"): media_list,
    ("encoded_video", True, "GET"): media_get,
    ("encoded_video", True, "PUT"): media_update,
    ("encoded_video", True, "DELETE"): media_delete,
    ("job", False, "GET"): job_list,
    ("job", False, "POST"): job_create,
    ("job", True, "GET"): job_get,
    ("job", True, "DELETE"): job_cancel,
    ("format", False, "GET"): format_list,
    ("format", False, "POST"): format_create,
    ("format", True, "GET"): format_get,
    ("format", True, "PUT"): format_update,
    ("format", True, "DELETE"): format_delete,
}


async def _form(request: web.Request) -> dict[str, str]:
    if request.method not in ("POST", "PUT", "PATCH") or not request.can_read_body:
        return {}
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return {k: str(v) for k, v in (await request.post()).items() if isinstance(v, str)}
    text = (await request.text()).strip()
    if request.content_type == "application/json" and text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise BadRequest("The JSON body is invalid") from None
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
    # A raw ``name=value&…`` body without a form content type (the Ruby CLI sends ``env=sandbox``).
    from urllib.parse import parse_qsl

    return dict(parse_qsl(text, keep_blank_values=True))


async def api(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    match = API_PATH.match(request.path)
    if match is None:
        return _error("json", 404, f"No route matches {request.path}")
    resource, raw_id, ext = match["resource"], match["id"], match["ext"]
    representation = choose(ext, request.query, request.headers.get("Accept"))
    if not _authorized(request, state.config):
        return _unauthorized(representation if representation in ("json", "xml") else "json")
    try:
        form = await _form(request)
    except BadRequest as exc:
        return _error(representation or "json", 400, exc.message)
    params = {**request.query, **form}
    if not ext and form.get("format"):
        representation = choose(None, params, request.headers.get("Accept"))
    if representation is None:
        return web.Response(status=406)
    handler = ROUTES.get((resource, raw_id is not None, request.method))
    if handler is None:
        allowed = sorted(m for (r, has_id, m) in ROUTES if r == resource and has_id == (raw_id is not None))
        if not allowed:
            return _error(
                representation if representation != "bin" else "json", 404, f"No route matches {request.path}"
            )
        return web.Response(status=405, headers={"Allow": ", ".join(allowed)})
    if representation == "bin" and handler is not media_get:
        return web.Response(status=406)
    if raw_id is not None and not raw_id.isdigit():
        return _error(representation, 404, f"{resource.replace('_', ' ').capitalize()} {raw_id} not found")
    call = Call(
        request=request,
        state=state,
        representation=representation,
        resource=resource,
        id=int(raw_id) if raw_id is not None else None,
        params=params,
    )
    error_format = "json" if representation == "bin" else representation
    try:
        return await handler(call)
    except NotFound:
        return _error(error_format, 404, f"{resource.replace('_', ' ').capitalize()} {raw_id} not found")
    except BadRequest as exc:
        return _error(error_format, 400, exc.message)


# --------------------------------------------------------------------------- files (.bin targets)


async def files(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    if not _authorized(request, state.config):
        return _unauthorized("json")
    kind, raw_id, name = request.match_info["kind"], request.match_info["id"], request.match_info["name"]
    records: dict[int, Any] = {"video": state.store.videos, "encoded_video": state.store.encoded_videos}.get(
        kind, {}
    )
    record = records.get(int(raw_id)) if raw_id.isdigit() else None
    if record is None:
        return _error("json", 404, "File not found")
    if name == record.filename:
        mime = str(record.specs.get("mime_type") or "application/octet-stream")
        return web.FileResponse(record.path, headers={"Content-Type": mime})
    thumb = record.path.parent / "thumb.jpg"
    if name == "thumb.jpg" and thumb.exists():
        return web.FileResponse(thumb, headers={"Content-Type": "image/jpeg"})
    return _error("json", 404, "File not found")


# --------------------------------------------------------------------------- /_emulator/ control


def _is_local(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address((request.remote or "").split("%")[0]).is_loopback
    except ValueError:
        return False


async def _spec(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text='{"message":"invalid JSON"}', content_type=_JSON) from None
        if not isinstance(data, dict):
            raise web.HTTPBadRequest(text='{"message":"expected a JSON object"}', content_type=_JSON)
        return data
    return {k: str(v) for k, v in (await request.post()).items()}


def _control_json(data: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=to_json(data), content_type=_JSON)


async def control(request: web.Request) -> web.StreamResponse:
    if not _is_local(request):
        return _control_json({"message": "the /_emulator/ endpoints only answer local clients"}, 403)
    state = request.app[STATE]
    action, method = request.match_info["action"], request.method
    if action == "faults":
        if method == "GET":
            return _control_json(state.faults.list())
        if method == "DELETE":
            state.faults.clear()
            return web.Response(status=204)
        if method == "POST":
            try:
                fault = state.faults.add(await _spec(request))
            except ValueError as exc:
                return _control_json({"message": str(exc)}, 400)
            return _control_json(fault.public(), 201)
    elif action == "reset" and method == "POST":
        await state.reset()
        return web.Response(status=204)
    elif action == "pipeline":
        if method == "POST":
            spec = await _spec(request)
            paused = parse_bool({"paused": str(spec.get("paused", "")).lower()}, "paused")
            if paused is None:
                return _control_json({"message": "give paused=true or paused=false"}, 400)
            if paused:
                state.pipeline.pause()
            else:
                state.pipeline.resume()
        if method in ("GET", "POST"):
            return _control_json(
                {"paused": not state.pipeline.running.is_set(), "tasks": len(state.pipeline.tasks)}
            )
    elif action == "config":
        if method == "POST":
            spec = await _spec(request)
            if "transfer_rate" in spec:
                rate = spec["transfer_rate"]
                try:
                    state.config.transfer_rate = float(rate) if rate not in (None, "", 0, "0") else None
                except (TypeError, ValueError):
                    return _control_json({"message": "transfer_rate must be kilobytes per second"}, 400)
            if "s3_endpoint_url" in spec:
                state.config.s3_endpoint_url = spec["s3_endpoint_url"] or None
        if method in ("GET", "POST"):
            return _control_json(
                {"transfer_rate": state.config.transfer_rate, "s3_endpoint_url": state.config.s3_endpoint_url}
            )
    else:
        return _control_json({"message": f"unknown control endpoint /_emulator/{action}"}, 404)
    return web.Response(status=405)


# --------------------------------------------------------------------------- application


def create_app(config: EmulatorConfig | None = None) -> web.Application:
    """The emulator as an aiohttp application (call inside the event loop that will serve it)."""
    config = config or EmulatorConfig()
    app = web.Application(
        middlewares=[fault_middleware(lambda request: request.app[STATE].faults)],
        client_max_size=64 * 1024**2,
    )
    app[STATE] = State(config)

    async def close_state(app: web.Application) -> None:
        await app[STATE].close()

    app.on_cleanup.append(close_state)
    app.router.add_route("*", "/_emulator/{action}", control)
    app.router.add_get("/_files/{kind}/{id}/{name}", files)
    app.router.add_route("*", "/{tail:.*}", api)
    return app
