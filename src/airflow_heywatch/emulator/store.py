"""The emulator's in-memory state: one account and its downloads, videos, jobs, encoded videos, formats.

Records are mutated only on the server's event loop. ``public()`` gives the 2011 JSON shape
(the normalised form the API core decodes to), with links built from the request's base URL.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow_heywatch.emulator.catalogue import BUILTIN_FORMATS, FIRST_CUSTOM_FORMAT_ID
from airflow_heywatch.emulator.params import OutputRequest

__all__ = ["Download", "EncodedVideo", "Job", "Store", "Video", "now"]

# Ids look like HeyWatch's (7-digit integers), increasing per resource.
_FIRST_IDS = {"download": 3928001, "video": 7863001, "job": 4888001, "encoded_video": 9554001}


def now() -> str:
    """The current local time as ISO-8601 with offset, to the second (the 2011 JSON shape)."""
    return datetime.now().astimezone().replace(microsecond=0).isoformat()


@dataclass
class Download:
    """A download; ``outputs`` and the job fields are what its automatic encode will use."""

    id: int
    url: str
    title: str
    custom_fields: dict[str, str]
    ping_url_after_transfer: str | None = None
    ping_url_if_error: str | None = None
    ping_url_after_encode: str | None = None
    max_length: int | None = None
    automatic_encode: bool = False
    outputs: list[OutputRequest] = field(default_factory=list)
    encoding_options: dict[str, Any] = field(default_factory=dict)
    status: str = "pending"
    video_id: int = 0
    length: int = 0
    percent: int = 0
    current_length: int = 0
    speed: int = 0
    time_left: str = "??"
    error_code: int | None = None
    error_msg: str | None = None
    created_at: str = field(default_factory=now)
    updated_at: str = field(default_factory=now)

    def touch(self) -> None:
        self.updated_at = now()

    def public(self, base_url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "url": self.url,
            "status": self.status,
            "video_id": self.video_id,
            "length": self.length,
            "progress": {
                "current_length": self.current_length,
                "speed": self.speed,
                "percent": self.percent,
                "time_left": self.time_left,
            },
            "error_code": self.error_code,
            "error_msg": self.error_msg,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass
class Video:
    id: int
    title: str
    filename: str
    path: Path
    specs: dict[str, Any]
    download_id: int | None = None
    created_at: str = field(default_factory=now)
    updated_at: str = field(default_factory=now)

    def public(self, base_url: str) -> dict[str, Any]:
        specs = dict(self.specs)
        specs["thumb"] = f"{base_url}/_files/video/{self.id}/thumb.jpg"
        return {
            "id": self.id,
            "title": self.title,
            "filename": self.filename,
            "link": f"{base_url}/video/{self.id}.bin",
            "specs": specs,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass
class Job:
    id: int
    video_id: int
    format_id: int
    encoding_options: dict[str, Any]
    ftp_directive: str | None = None
    s3_directive: str | None = None
    http_upload_directive: str | None = None
    cf_directive: str | None = None
    ping_url_after_encode: str | None = None
    ping_url_if_error: str | None = None
    custom_fields: dict[str, str] = field(default_factory=dict)
    download_id: int | None = None
    status: str = "pending"
    progress: int = 0
    encoded_video_id: int = 0
    error_code: int | None = None
    error_msg: str | None = None
    created_at: str = field(default_factory=now)
    updated_at: str = field(default_factory=now)

    def touch(self) -> None:
        self.updated_at = now()

    def public(self, base_url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "video_id": self.video_id,
            "format_id": self.format_id,
            "status": self.status,
            "progress": self.progress,
            "encoded_video_id": self.encoded_video_id,
            "error_code": self.error_code,
            "error_msg": self.error_msg,
            "encoding_options": dict(self.encoding_options),
            "ftp_directive": self.ftp_directive,
            "s3_directive": self.s3_directive,
            "http_upload_directive": self.http_upload_directive,
            "cf_directive": self.cf_directive,
            "ping_url_after_encode": self.ping_url_after_encode,
            "ping_url_if_error": self.ping_url_if_error,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass
class EncodedVideo:
    id: int
    title: str
    filename: str
    path: Path
    job_id: int
    video_id: int
    specs: dict[str, Any]
    created_at: str = field(default_factory=now)
    updated_at: str = field(default_factory=now)

    def public(self, base_url: str) -> dict[str, Any]:
        specs = dict(self.specs)
        specs["thumb"] = f"{base_url}/_files/encoded_video/{self.id}/thumb.jpg"
        return {
            "id": self.id,
            "title": self.title,
            "filename": self.filename,
            "link": f"{base_url}/encoded_video/{self.id}.bin",
            "job_id": self.job_id,
            "specs": specs,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


class Store:
    """Every record of the single emulated account, keyed by id (insertion order = id order)."""

    def __init__(self, login: str, *, automatic_encode: bool = False, default_format: int = 175) -> None:
        self.login = login
        self.automatic_encode = automatic_encode
        self.default_format = default_format
        self.created_at = now()
        self.updated_at = self.created_at
        self.downloads: dict[int, Download] = {}
        self.videos: dict[int, Video] = {}
        self.jobs: dict[int, Job] = {}
        self.encoded_videos: dict[int, EncodedVideo] = {}
        self.formats: dict[int, dict[str, Any]] = {k: dict(v) for k, v in BUILTIN_FORMATS.items()}
        #: Account-wide defaults set with ``PUT /account`` (ping URLs, directives, ``env``).
        self.settings: dict[str, Any] = {"env": "sandbox"}
        self._ids = {name: itertools.count(first) for name, first in _FIRST_IDS.items()}
        self._ids["format"] = itertools.count(FIRST_CUSTOM_FORMAT_ID)

    def next_id(self, resource: str) -> int:
        return next(self._ids[resource])

    def account(self) -> dict[str, Any]:
        """The account in the 2011 JSON shape (rb README fields plus the typed-client ones)."""
        return {
            "login": self.login,
            "email": f"{self.login}@localhost",
            "firstname": "HeyWatch",
            "lastname": "Emulator",
            "upload_key": f"emulator-{self.login}",
            "io": 0,
            "default_format": self.default_format,
            "automatic_encode": self.automatic_encode,
            "encode_credits": 1000000,
            **self.settings,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
