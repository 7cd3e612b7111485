"""Which representation a request asks for: the path suffix, then ``format``, then ``Accept``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

__all__ = ["API_PATH", "Representation", "choose"]

Representation = Literal["json", "xml", "bin"]

#: ``/resource``, ``/resource/ID``, each with an optional ``.suffix``.
API_PATH = re.compile(
    r"^/(?P<resource>download|video|job|encoded_video|format|account)"
    r"(?:/(?P<id>[^/.]+))?(?P<ext>\.[A-Za-z0-9]+)?/?$"
)

_SUFFIXES: dict[str, Representation] = {".json": "json", ".xml": "xml", ".bin": "bin"}
_MEDIA_TYPES: dict[str, Representation | None] = {
    "application/json": "json",
    "text/json": "json",
    "text/javascript": "json",
    "application/xml": "xml",
    "text/xml": "xml",
    "*/*": None,
    "application/*": None,
    "text/*": None,
}

#: With no suffix, no ``format`` and no (or a wildcard) ``Accept``, JSON is served.
DEFAULT: Representation = "json"


def _accept(header: str) -> Representation | Literal[False] | None:
    """The representation ``Accept`` prefers; ``None`` for a wildcard, ``False`` for nothing usable."""
    ranked: list[tuple[float, int, Representation | None]] = []
    for position, item in enumerate(header.split(",")):
        media, *params = [p.strip() for p in item.split(";")]
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.lower()
        if quality > 0 and media in _MEDIA_TYPES:
            ranked.append((-quality, position, _MEDIA_TYPES[media]))
    if not ranked:
        return False
    ranked.sort(key=lambda r: (r[0], r[1]))
    return ranked[0][2]


def choose(ext: str | None, params: Mapping[str, str], accept: str | None) -> Representation | None:
    """The representation to answer with, or ``None`` for 406 Not Acceptable."""
    if ext:
        return _SUFFIXES.get(ext.lower())
    wanted = (params.get("format") or "").lower()
    if wanted:
        return wanted if wanted in ("json", "xml") else None  # type: ignore[return-value]
    if not accept or not accept.strip():
        return DEFAULT
    preferred = _accept(accept)
    if preferred is False:
        return None
    return preferred or DEFAULT
