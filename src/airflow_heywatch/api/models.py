"""Field schemas of the HeyWatch v1 resources, in the types of the 2011 JSON API.

A schema maps a field name to its type:

- ``int``, ``float``, ``str``, ``bool``;
- ``"datetime"``: an ISO-8601 string with offset (``2011-02-09T17:44:44+01:00``);
- a nested schema (a dict of the same kind), e.g. ``download.progress`` or ``video.specs``;
- ``dict``: a free-form object whose keys are not fixed (``job.encoding_options``).

The XML decoder uses the schemas to turn element text into exactly these types; JSON values are
kept as the server sent them. Fields that are not in a schema are kept too (their type inferred).
Sources: HEYWATCH_API.md §2.4, §3.2, §4.3, §5.4, §6.2, §7.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "ACCOUNT",
    "AUDIO_STREAM",
    "DOWNLOAD",
    "DOWNLOAD_PROGRESS",
    "ENCODED_VIDEO",
    "ENCODED_VIDEO_SPECS",
    "FORMAT",
    "JOB",
    "RESOURCES",
    "SCHEMAS",
    "VIDEO",
    "VIDEO_SPECS",
    "VIDEO_STREAM",
    "XML_ATTRIBUTE_FIELDS",
    "XML_NAMES",
    "FieldType",
    "Schema",
    "field_type",
    "schema_for",
]

FieldType = type | str | Mapping[str, Any]
Schema = Mapping[str, FieldType]

DATETIME = "datetime"

#: ``download.progress`` — an object in JSON, an empty element with attributes in wiki XML.
DOWNLOAD_PROGRESS: Schema = {
    "current_length": int,
    "speed": int,
    "percent": int,
    "time_left": str,
}

DOWNLOAD: Schema = {
    "id": int,
    "title": str,
    "url": str,
    "status": str,
    "video_id": int,
    "length": int,
    "progress": DOWNLOAD_PROGRESS,
    "error_code": int,
    "error_msg": str,
    "created_at": DATETIME,
    "updated_at": DATETIME,
}

#: ``specs.audio`` of a video or an encoded video.
AUDIO_STREAM: Schema = {
    "sample_rate": int,
    "synched": bool,
    "stream": float,
    "codec": str,
    "bitrate": int,
    "channels": int,
}

#: ``specs.video`` of a video or an encoded video.
VIDEO_STREAM: Schema = {
    "stream": float,
    "codec": str,
    "container": str,
    "aspect": float,
    "bitrate": int,
    "height": int,
    "length": int,
    "fps": float,
    "width": int,
    "rotation": int,
    "pix_format": str,
}

VIDEO_SPECS: Schema = {
    "size": int,
    "thumb": str,
    "mime_type": str,
    "audio": AUDIO_STREAM,
    "video": VIDEO_STREAM,
}

VIDEO: Schema = {
    "id": int,
    "title": str,
    "filename": str,
    "link": str,
    "url": str,
    "specs": VIDEO_SPECS,
    "created_at": DATETIME,
    "updated_at": DATETIME,
}

#: Encoded-video specs: the video specs plus the format; ``format_id`` is a **string** here.
ENCODED_VIDEO_SPECS: Schema = {
    **VIDEO_SPECS,
    "format_name": str,
    "format_id": str,
}

ENCODED_VIDEO: Schema = {
    "id": int,
    "title": str,
    "filename": str,
    "link": str,
    "job_id": int,
    "specs": ENCODED_VIDEO_SPECS,
    "created_at": DATETIME,
    "updated_at": DATETIME,
}

JOB: Schema = {
    "id": int,
    "video_id": int,
    "format_id": int,
    "status": str,
    "progress": int,
    "encoded_video_id": int,
    "error_code": int,
    "error_msg": str,
    "encoding_options": dict,
    "ftp_directive": str,
    "s3_directive": str,
    "http_upload_directive": str,
    "cf_directive": str,
    "ping_url_after_encode": str,
    "ping_url_if_error": str,
    "ping_url": str,
    "created_at": DATETIME,
    "updated_at": DATETIME,
}

FORMAT: Schema = {
    "id": int,
    "name": str,
    "category": str,
    "container": str,
    "video_codec": str,
    "video_bitrate": float,
    "audio_bitrate": float,
    "fps": float,
    "width": int,
    "height": int,
    "sample_rate": int,
    "audio_channels": int,
    "audio_codec": str,
    "two_pass": bool,
    "owner": bool,
}

ACCOUNT: Schema = {
    "login": str,
    "email": str,
    "firstname": str,
    "lastname": str,
    "upload_key": str,
    "io": int,
    "default_format": int,
    "automatic_encode": bool,
    "encode_credits": int,
    "env": str,
    "ping_url_after_transfer": str,
    "ping_url_after_encode": str,
    "ping_url_if_error": str,
    "ftp_directive": str,
    "s3_directive": str,
    "http_upload_directive": str,
    "created_at": DATETIME,
    "updated_at": DATETIME,
}

SCHEMAS: dict[str, Schema] = {
    "download": DOWNLOAD,
    "video": VIDEO,
    "encoded_video": ENCODED_VIDEO,
    "job": JOB,
    "format": FORMAT,
    "account": ACCOUNT,
}

RESOURCES: tuple[str, ...] = tuple(SCHEMAS)

#: XML element names per resource: (single-object root / list item, list root).
#: An empty list is ``<nil-classes/>`` (Rails ``[].to_xml``); the account root wraps a ``<user>``.
XML_NAMES: dict[str, tuple[str, str]] = {
    "download": ("download", "downloads"),
    "video": ("video", "videos"),
    "encoded_video": ("encoded-video", "encoded-videos"),
    "job": ("job", "jobs"),
    "format": ("format-specs", "formats"),
    "account": ("account", "accounts"),
}

#: Fields written in wiki XML as an empty element carrying its data in attributes.
XML_ATTRIBUTE_FIELDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "download": (("progress",),),
    "video": (("specs", "audio"), ("specs", "video")),
    "encoded_video": (("specs", "audio"), ("specs", "video")),
}


def schema_for(resource: str) -> Schema:
    """The schema of ``resource`` (``download``, ``video``, …); an empty schema if unknown."""
    return SCHEMAS.get(resource, {})


def field_type(resource: str, *path: str) -> FieldType | None:
    """The type of a (possibly nested) field, e.g. ``field_type("video", "specs", "size")``."""
    current: Any = schema_for(resource)
    for name in path:
        if not isinstance(current, Mapping) or name not in current:
            return None
        current = current[name]
    return current
