"""Parse the form parameters of ``POST /download``, ``POST /job`` and ``POST /format``.

Problems raise :class:`BadRequest`, which the app answers with 400 and the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from airflow_heywatch.api.models import FORMAT
from airflow_heywatch.api.options import split_directive_list
from airflow_heywatch.api.redact import redact_url
from airflow_heywatch.emulator.media import AUDIO_CODECS, CONTAINERS, VIDEO_CODECS

__all__ = [
    "DIRECTIVES",
    "ENCODING_OPTIONS",
    "BadRequest",
    "Directive",
    "OutputRequest",
    "custom_fields",
    "parse_bool",
    "parse_directive",
    "parse_encoding_options",
    "parse_format",
    "parse_int",
    "parse_outputs",
]

DIRECTIVES = ("ftp_directive", "s3_directive", "http_upload_directive", "cf_directive")

_DIRECTIVE_SCHEMES = {
    "ftp_directive": ("ftp",),
    "s3_directive": ("s3",),
    "http_upload_directive": ("http", "https"),
    "cf_directive": ("cf",),
}

#: Encoding options (HEYWATCH_API.md §5.3) and the type their value is stored with.
ENCODING_OPTIONS: dict[str, type] = {
    "keep_video_size": bool,
    "keep_fps": bool,
    "keep_quality": bool,
    "deinterlace": bool,
    "watermark_image_url": str,
    "watermark_position": str,
    "keep_aspect_ratio": bool,
    "keep_video_bitrate": bool,
    "keep_sample_rate": bool,
    "keep_channels": bool,
    "keep_audio_bitrate": bool,
    "transpose": int,
    "max_video_bitrate": str,
    "duration": int,
    "x264_options": str,
    "vflip": bool,
    "hflip": bool,
}

#: Download parameters that are not custom fields.
_DOWNLOAD_PARAMS = {
    "url",
    "title",
    "ping_url_after_transfer",
    "ping_url_if_error",
    "ping_url_after_encode",
    "ping_url",
    "automatic_encode",
    "format_id",
    "default_format",
    "max_length",
    "format",
    *DIRECTIVES,
    *ENCODING_OPTIONS,
}

#: The settable fields of a format: its schema less what the server assigns.
_FORMAT_FIELDS: dict[str, type] = {
    name: kind for name, kind in FORMAT.items() if name not in ("id", "owner") and isinstance(kind, type)
}


class BadRequest(Exception):
    """A request the API answers with 400; ``message`` is the body's text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Directive:
    """A parsed delivery directive; ``user`` and ``password`` are percent-decoded."""

    raw: str
    scheme: str
    user: str
    password: str
    host: str
    port: int | None
    path: str

    @property
    def redacted(self) -> str:
        return redact_url(self.raw)


@dataclass(frozen=True)
class OutputRequest:
    """One requested output: a format and its (raw, still percent-encoded) directives."""

    format_id: int
    ftp_directive: str | None = None
    s3_directive: str | None = None
    http_upload_directive: str | None = None
    cf_directive: str | None = None


def parse_bool(form: Mapping[str, str], name: str) -> bool | None:
    """``true``/``false`` (also 1/0, yes/no) or ``None`` when absent."""
    value = form.get(name)
    if value is None or value == "":
        return None
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise BadRequest(f"{name} must be true or false, not {value!r}")


def parse_int(form: Mapping[str, str], name: str) -> int | None:
    value = form.get(name)
    if value is None or value.strip() == "":
        return None
    try:
        return int(value.strip())
    except ValueError:
        raise BadRequest(f"{name} must be an integer, not {value!r}") from None


def parse_directive(parameter: str, raw: str) -> Directive:
    """Split one directive URL; 400 naming ``parameter`` if it is not a usable URL."""
    schemes = _DIRECTIVE_SCHEMES[parameter]
    example = {
        "ftp_directive": "ftp://login:password@host/path",
        "s3_directive": "s3://access_key:secret_key@bucket/key",
        "http_upload_directive": "http://host/upload",
        "cf_directive": "cf://user:api_key@container/path",
    }[parameter]
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise BadRequest(f"{parameter} is invalid (expected {example})") from None
    if parts.scheme.lower() not in schemes or not parts.hostname:
        raise BadRequest(f"{parameter} is invalid: {redact_url(raw)} (expected {example})")
    return Directive(
        raw=raw,
        scheme=parts.scheme.lower(),
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        host=unquote(parts.hostname),
        port=port,
        path=unquote(parts.path),
    )


def _format_ids(form: Mapping[str, str], formats: Mapping[int, Any], default_format: int) -> list[int]:
    raw = form.get("format_id")
    if raw is None or raw.strip() == "":
        if parse_bool(form, "default_format"):
            return [default_format]
        return []
    ids: list[int] = []
    for item in split_directive_list(raw):
        try:
            format_id = int(item)
        except ValueError:
            raise BadRequest(
                f"Format {item!r} is invalid: format_id takes format ids such as 31 or 175"
            ) from None
        if format_id not in formats:
            raise BadRequest(f"Format {format_id} does not exist")
        ids.append(format_id)
    return ids


def parse_outputs(
    form: Mapping[str, str], formats: Mapping[int, Any], default_format: int, *, required: bool = False
) -> list[OutputRequest]:
    """The requested outputs, in order: the i-th directive goes with the i-th format.

    A directive given once applies to every format; any other length mismatch is a 400.
    """
    format_ids = _format_ids(form, formats, default_format)
    if not format_ids:
        if required:
            raise BadRequest("No format submitted: give format_id (or default_format=true)")
        for name in DIRECTIVES:
            if form.get(name):
                parse_directive(name, split_directive_list(form[name])[0])
        return []
    lists: dict[str, list[str | None]] = {}
    for name in DIRECTIVES:
        values = split_directive_list(form.get(name, ""))
        if not values:
            lists[name] = [None] * len(format_ids)
            continue
        if len(values) == 1:
            values = values * len(format_ids)
        elif len(values) != len(format_ids):
            raise BadRequest(
                f"{name} has {len(values)} values but format_id has {len(format_ids)}: "
                "give one value per format, in the same order, or a single value for all"
            )
        for value in values:
            if not value:
                raise BadRequest(f"{name} has an empty value")
            parse_directive(name, value)
        lists[name] = list(values)
    return [
        OutputRequest(
            format_id=format_id,
            ftp_directive=lists["ftp_directive"][i],
            s3_directive=lists["s3_directive"][i],
            http_upload_directive=lists["http_upload_directive"][i],
            cf_directive=lists["cf_directive"][i],
        )
        for i, format_id in enumerate(format_ids)
    ]


def parse_encoding_options(form: Mapping[str, str]) -> dict[str, Any]:
    """Only the encoding options that were given, with typed values."""
    options: dict[str, Any] = {}
    for name, kind in ENCODING_OPTIONS.items():
        if name not in form:
            continue
        if kind is bool:
            options[name] = parse_bool(form, name)
        elif kind is int:
            options[name] = parse_int(form, name)
        else:
            options[name] = form[name]
        if options[name] is None:
            del options[name]
    return options


def custom_fields(form: Mapping[str, str]) -> dict[str, str]:
    """Every parameter that is not a documented one (sent back in the pings)."""
    return {k: v for k, v in form.items() if k not in _DOWNLOAD_PARAMS}


def parse_format(form: Mapping[str, str]) -> dict[str, Any]:
    """The fields of ``POST /format`` (documented 2007 limits loosened as the 2011 example shows)."""
    if not form.get("name"):
        raise BadRequest("Name can't be blank")
    fields: dict[str, Any] = {
        "name": form["name"],
        "category": form.get("category") or "formats",
        "container": form.get("container") or "mp4",
        "video_codec": form.get("video_codec") or "h264",
        "video_bitrate": 500.0,
        "audio_bitrate": 96.0,
        "fps": 25.0,
        "width": 320,
        "height": 0,
        "sample_rate": 44100,
        "audio_channels": 2,
        "audio_codec": form.get("audio_codec", "aac"),
        "two_pass": False,
    }
    for name, kind in _FORMAT_FIELDS.items():
        if name not in form or kind is str:
            continue
        if kind is bool:
            fields[name] = bool(parse_bool(form, name))
            continue
        try:
            fields[name] = kind(form[name])
        except ValueError:
            raise BadRequest(f"{name} must be a number, not {form[name]!r}") from None
    if "audio_channel" in form and "audio_channels" not in form:
        fields["audio_channels"] = parse_int(form, "audio_channel")
    if fields["category"] not in ("formats", "devices"):
        raise BadRequest("Category must be formats or devices")
    if fields["container"] not in CONTAINERS:
        raise BadRequest(f"Container is not included in the list ({', '.join(sorted(CONTAINERS))})")
    if fields["video_codec"] not in VIDEO_CODECS:
        raise BadRequest(f"Video codec is not included in the list ({', '.join(sorted(VIDEO_CODECS))})")
    if fields["audio_codec"] and fields["audio_codec"] not in AUDIO_CODECS:
        raise BadRequest(f"Audio codec is not included in the list ({', '.join(sorted(AUDIO_CODECS))})")
    if not 50 <= fields["video_bitrate"] <= 10000:
        raise BadRequest("Video bitrate must be between 50 and 10000")
    if not 50 <= fields["width"] <= 1920:
        raise BadRequest("Width must be between 50 and 1920")
    if fields["height"] and not 50 <= fields["height"] <= 1280:
        raise BadRequest("Height must be 0 or between 50 and 1280")
    if fields["audio_channels"] not in (0, 1, 2):
        raise BadRequest("Audio channels must be 0, 1 or 2")
    if fields["audio_bitrate"] > 512:
        raise BadRequest("Audio bitrate must be at most 512")
    return fields
