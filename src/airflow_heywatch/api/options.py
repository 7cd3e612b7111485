"""Multi-format job options: build and validate the form parameters of a download or a job.

HeyWatch encodes one source into several formats in one request (HEYWATCH_API.md §2.3, §5.3):
``format_id``, ``ftp_directive``, ``s3_directive`` and ``http_upload_directive`` each take several
values separated by ``,``, and the i-th directive belongs to the i-th format. The rules this
package applies (the 2011 documentation leaves them open; the emulator follows the same rules):

- a directive list is either **one** value, which applies to every format, or **exactly as long**
  as the format list; any other length is refused before anything is sent;
- a literal comma inside a directive (in a password, an S3 secret, a path) is sent as ``%2C``,
  so that splitting the list on ``,`` is always right (:func:`split_directive_list`); the server
  percent-decodes each URL part;
- the userinfo of a directive is percent-encoded: ``/``, ``+``, ``,``, ``?``, ``#``, ``@``,
  ``:`` (in the password), spaces… — an S3 secret key ``ab/c+d`` is sent as ``ab%2Fc%2Bd``.
  Values already percent-encoded are left as they are (so a literal ``%`` must be written
  ``%25``);
- schemes: ``ftp_directive`` ``ftp://``, ``s3_directive`` ``s3://``, ``http_upload_directive``
  ``http://`` or ``https://``; a host (or bucket) is required;
- ``format_id``: a positive integer, a string of digits (``"31"``), or a dynamic format id of
  the later API (``"mp4"``, ``"ios_720p"``, ``"mp4:h263"``, ``"mkv:h264:mp3_720p"``: lowercase
  letters, digits, ``_`` and ``:``, at least one letter). The server decides whether it exists;
- booleans are sent as ``true`` / ``false``.

Every violation raises :class:`HeyWatchValidationError` naming the parameter (and the output
index), showing the value with its password masked, and saying how to fix it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import quote, unquote

from airflow_heywatch.api.errors import HeyWatchValidationError
from airflow_heywatch.api.redact import redact, redact_url

__all__ = [
    "BOOLEAN_ENCODING_OPTIONS",
    "DIRECTIVES",
    "ENCODING_OPTIONS",
    "Output",
    "build_job_params",
    "encode_encoding_options",
    "form_value",
    "normalise_directive",
    "normalise_format_id",
    "split_directive_list",
    "validate_job_params",
]

#: Directive parameter → accepted URL schemes.
DIRECTIVES: dict[str, tuple[str, ...]] = {
    "ftp_directive": ("ftp",),
    "s3_directive": ("s3",),
    "http_upload_directive": ("http", "https"),
}

#: Encoding options that take a boolean (HEYWATCH_API.md §5.3).
BOOLEAN_ENCODING_OPTIONS: frozenset[str] = frozenset(
    {
        "keep_video_size",
        "keep_fps",
        "keep_quality",
        "deinterlace",
        "keep_aspect_ratio",
        "keep_video_bitrate",
        "keep_sample_rate",
        "keep_channels",
        "keep_audio_bitrate",
        "vflip",
        "hflip",
    }
)

#: Every documented encoding option.
ENCODING_OPTIONS: frozenset[str] = BOOLEAN_ENCODING_OPTIONS | frozenset(
    {
        "watermark_image_url",
        "watermark_position",
        "transpose",
        "max_video_bitrate",
        "duration",
        "x264_options",
    }
)

_DYNAMIC_FORMAT = re.compile(r"^(?=[a-z0-9_:]*[a-z])[a-z0-9]+(?:[_:][a-z0-9]+)*$")
_DIGITS = re.compile(r"^\d+$")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
# Characters kept as they are inside userinfo; everything else is percent-encoded.
_USERINFO_SAFE = "-._~!$&'()*;="


@dataclass(frozen=True)
class Output:
    """One output of a multi-format encode: a format and where to deliver the result."""

    format_id: int | str
    ftp_directive: str | None = None
    s3_directive: str | None = None
    http_upload_directive: str | None = None


def _where(parameter: str, index: int | None, count: int | None) -> str:
    if index is None:
        return parameter
    if count is None:
        return f"outputs[{index}].{parameter}"
    return f"{parameter} (value {index + 1} of {count})"


def form_value(value: Any, parameter: str = "value") -> str:
    """A form value as HeyWatch expects it: ``True`` → ``"true"``, numbers as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise HeyWatchValidationError(
        parameter,
        f"{parameter} must be a string, a number or a boolean, not {type(value).__name__}; "
        "pass a plain value",
    )


def normalise_format_id(value: Any, where: str = "format_id") -> str:
    """One ``format_id`` as sent: digits (positive) or a dynamic format id."""
    if isinstance(value, bool):
        raise HeyWatchValidationError(
            "format_id", f"{where} must be a format id such as 31, not a boolean ({value})"
        )
    if isinstance(value, int):
        if value <= 0:
            raise HeyWatchValidationError(
                "format_id", f"{where} must be a positive format id such as 31, not {value}"
            )
        return str(value)
    if isinstance(value, str):
        text = value.strip()
        if _DIGITS.match(text):
            if int(text) <= 0:
                raise HeyWatchValidationError(
                    "format_id", f"{where} must be a positive format id such as 31, not {value!r}"
                )
            return str(int(text))
        if _DYNAMIC_FORMAT.match(text):
            return text
        if "," in text:
            raise HeyWatchValidationError(
                "format_id",
                f"{where} holds several formats ({value!r}); give one output per format "
                "(or a list of format ids)",
            )
        raise HeyWatchValidationError(
            "format_id",
            f"{where} must be a positive numeric format id such as 31 (or a dynamic format id "
            f"such as 'mp4' or 'ios_720p'), not {value!r}",
        )
    raise HeyWatchValidationError(
        "format_id",
        f"{where} must be a positive numeric format id such as 31, not {type(value).__name__}",
    )


def _encode_userinfo_part(part: str) -> str:
    return quote(unquote(part), safe=_USERINFO_SAFE)


def normalise_directive(parameter: str, value: Any, where: str | None = None) -> str:
    """One directive URL, checked and encoded for a comma-separated list.

    The scheme must suit ``parameter``; userinfo is percent-encoded; any literal comma
    becomes ``%2C``.
    """
    where = where or parameter
    schemes = DIRECTIVES[parameter]
    wanted = " or ".join(f"{scheme}://" for scheme in schemes)
    if not isinstance(value, str):
        raise HeyWatchValidationError(
            parameter, f"{where} must be a URL string starting with {wanted}, not {type(value).__name__}"
        )
    text = value.strip()
    if not text:
        raise HeyWatchValidationError(
            parameter, f"{where} is empty; give a URL starting with {wanted} or leave it out"
        )
    shown = redact_url(text)
    match = _SCHEME.match(text)
    if not match or match[1].lower() not in schemes:
        raise HeyWatchValidationError(
            parameter,
            f"{where} must start with {wanted}, got {shown!r}"
            + ("" if match else "; if a value contains a comma, write it as %2C or pass a list"),
        )
    if any(char.isspace() for char in text):
        raise HeyWatchValidationError(
            parameter, f"{where} contains whitespace ({shown!r}); percent-encode it as %20"
        )
    scheme = match[1].lower()
    rest = text[match.end() :]
    userinfo = ""
    first_at = rest.find("@")
    if first_at >= 0:
        slash = rest.find("/", first_at)
        authority_end = len(rest) if slash < 0 else slash
        last_at = rest.rfind("@", 0, authority_end)
        userinfo, rest = rest[:last_at], rest[last_at + 1 :]
    if scheme in ("ftp", "s3") and ("?" in rest or "#" in rest):
        raise HeyWatchValidationError(
            parameter,
            f"{where} has a query string or fragment ({shown!r}), which would not be part of the "
            f"delivery path; write it as {_example(scheme)}. A URL built with an Airflow connection's "
            "get_uri() ends in ?__extra__=… when the connection has extras: remove the extras or "
            "build the URL from the connection's login, password, host and port",
        )
    host = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if not host or host.startswith(":"):
        what = "bucket" if scheme == "s3" else "host"
        raise HeyWatchValidationError(
            parameter, f"{where} has no {what} ({shown!r}); write it as {_example(scheme)}"
        )
    encoded = f"{scheme}://"
    if userinfo:
        user, sep, password = userinfo.partition(":")
        encoded += _encode_userinfo_part(user)
        if sep:
            encoded += ":" + _encode_userinfo_part(password)
        encoded += "@"
    return encoded + rest.replace(",", "%2C")


def _example(scheme: str) -> str:
    return {
        "ftp": "ftp://login:password@host:port/path",
        "s3": "s3://access_key:secret_key@bucket/object_key",
    }.get(scheme, f"{scheme}://user:password@host/path")


def split_directive_list(value: str) -> list[str]:
    """Split a comma-separated directive (or ``format_id``) list, the way the server does.

    Items are stripped of surrounding whitespace; ``%2C`` inside an item stays encoded (the
    server percent-decodes each URL part when it parses the item). Empty input gives ``[]``.
    """
    if value is None or not str(value).strip():
        return []
    return [item.strip() for item in str(value).split(",")]


def _as_list(parameter: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return split_directive_list(value)
    if isinstance(value, (int, bool)):
        return [value]
    if isinstance(value, Sequence):
        return list(value)
    raise HeyWatchValidationError(
        parameter,
        f"{parameter} must be a string or a list of strings, not {type(value).__name__}",
    )


def _params(format_ids: list[str], directives: dict[str, list[str]]) -> dict[str, str]:
    params = {"format_id": ",".join(format_ids)}
    for name, values in directives.items():
        if not values:
            continue
        params[name] = values[0] if len(set(values)) == 1 else ",".join(values)
    return params


def build_job_params(outputs: Sequence[Output | Mapping[str, Any]]) -> dict[str, str]:
    """The form parameters for several outputs: ``format_id`` and ``*_directive``, order kept.

    A directive must be given for every output or for none (a single shared value is sent
    once). Raises :class:`HeyWatchValidationError` naming ``outputs[i].<field>`` and the fix.
    """
    if isinstance(outputs, (str, bytes, Mapping, Output)) or not isinstance(outputs, Sequence):
        raise HeyWatchValidationError(
            "outputs", "outputs must be a list of Output objects (or dicts), one per format"
        )
    if not outputs:
        raise HeyWatchValidationError(
            "outputs", "outputs is empty; give at least one output with a format_id"
        )
    allowed = {field.name for field in fields(Output)}
    rows: list[Output] = []
    for index, item in enumerate(outputs):
        if isinstance(item, Output):
            rows.append(item)
            continue
        if not isinstance(item, Mapping):
            raise HeyWatchValidationError(
                "outputs",
                f"outputs[{index}] must be an Output or a dict with format_id and directives, "
                f"not {type(item).__name__}",
            )
        unknown = sorted(set(item) - allowed)
        if unknown:
            raise HeyWatchValidationError(
                f"outputs[{index}].{unknown[0]}",
                f"outputs[{index}] has unknown key(s) {', '.join(map(repr, unknown))}; "
                f"the keys are {', '.join(sorted(allowed))}",
            )
        if item.get("format_id") is None:
            raise HeyWatchValidationError(
                f"outputs[{index}].format_id", f"outputs[{index}].format_id is missing; give a format id"
            )
        rows.append(Output(**item))

    count = len(rows)
    format_ids = [
        normalise_format_id(row.format_id, f"outputs[{index}].format_id") for index, row in enumerate(rows)
    ]
    directives: dict[str, list[str]] = {}
    for name in DIRECTIVES:
        given = [getattr(row, name) for row in rows]
        present = [index for index, value in enumerate(given) if value is not None]
        if not present:
            continue
        if len(present) != count:
            missing = next(index for index, value in enumerate(given) if value is None)
            raise HeyWatchValidationError(
                f"outputs[{missing}].{name}",
                f"outputs[{missing}].{name} is missing while outputs[{present[0]}] has one; HeyWatch "
                f"takes one {name} per output or the same for all: give every output a {name} "
                f"(repeat it where the destination is shared) or none",
            )
        directives[name] = [
            normalise_directive(name, value, _where(name, index, None)) for index, value in enumerate(given)
        ]
    return _params(format_ids, directives)


def validate_job_params(
    *,
    format_id: Any,
    ftp_directive: Any = None,
    s3_directive: Any = None,
    http_upload_directive: Any = None,
) -> dict[str, str]:
    """The same parameters from raw values: comma-separated strings or lists.

    Each directive is either one value (used for every format) or exactly one value per format.
    """
    raw_formats = _as_list("format_id", format_id)
    if not raw_formats:
        raise HeyWatchValidationError("format_id", "format_id is missing; give a format id such as 31")
    count = len(raw_formats)
    format_ids = [
        normalise_format_id(value, _where("format_id", index, count) if count > 1 else "format_id")
        for index, value in enumerate(raw_formats)
    ]
    directives: dict[str, list[str]] = {}
    raw_directives = {
        "ftp_directive": ftp_directive,
        "s3_directive": s3_directive,
        "http_upload_directive": http_upload_directive,
    }
    for name, raw in raw_directives.items():
        values = _as_list(name, raw)
        if not values:
            continue
        if len(values) not in (1, count):
            raise HeyWatchValidationError(
                name,
                f"{name} has {len(values)} values but format_id has {count} format(s); give "
                f"one {name} for every format, in the same order, or a single one for all of them "
                "(a comma inside a value must be written %2C)",
            )
        directives[name] = [
            normalise_directive(name, value, _where(name, index, len(values)) if len(values) > 1 else name)
            for index, value in enumerate(values)
        ]
    return _params(format_ids, directives)


def encode_encoding_options(options: Mapping[str, Any] | None) -> dict[str, str]:
    """Encoding options (``keep_fps``, ``watermark_position``…) as form values.

    Booleans become ``true``/``false``; boolean options also accept ``"true"``/``"false"`` in
    any case; ``None`` values are left out; names outside :data:`ENCODING_OPTIONS` are sent as
    they are (the server may know more options than the surviving documentation).
    """
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise HeyWatchValidationError(
            "encoding_options",
            f"encoding_options must be a dict such as {{'keep_fps': True}}, not {type(options).__name__}",
        )
    result: dict[str, str] = {}
    for name, value in options.items():
        if not isinstance(name, str) or not re.match(r"^[a-z][a-z0-9_]*$", name):
            raise HeyWatchValidationError(
                "encoding_options",
                f"encoding_options key {name!r} is not an option name; use names such as keep_fps",
            )
        if value is None:
            continue
        if name in BOOLEAN_ENCODING_OPTIONS:
            text = value.strip().lower() if isinstance(value, str) else value
            if not isinstance(text, (bool, str)) or text not in (True, False, "true", "false"):
                raise HeyWatchValidationError(
                    name, f"{name} must be true or false, not {value!r}; pass True or False"
                )
            result[name] = "true" if text in (True, "true") else "false"
            continue
        if name == "watermark_image_url" and (
            not isinstance(value, str) or not value.lower().startswith(("http://", "https://"))
        ):
            raise HeyWatchValidationError(
                name, f"{name} must be an http:// or https:// URL of the image, not {redact(value)!r}"
            )
        result[name] = form_value(value, name)
    return result
