"""Credentials inside directive URLs: find them (for the secrets masker) and hide them.

``ftp://login:password@host/path``, ``s3://access_key:secret_key@bucket/key`` and
``https://user:password@host/upload`` carry credentials in their userinfo. The password part (the
S3 secret key) must never reach a log, an exception text, a rendered field or an XCom value:
:func:`redact` replaces it with ``***``. The login part (the S3 access key id) identifies the
credential, like a user name, and is kept in redacted values so that a reader can tell which
credential was used; the secrets masker is still given the S3 access key, as a precaution for
logs. Credentials may be percent-encoded (``%2F``, ``%2B``, ``%2C``): both the encoded and the
decoded forms are secrets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

__all__ = ["MASK", "directive_secrets", "redact", "redact_text", "redact_url"]

MASK = "***"

# scheme://user:password@ — the password runs to the "@" that ends the userinfo. A password with
# an unencoded "@" is handled too: a further "@" before any "/" still belongs to the userinfo.
_CREDENTIALS = re.compile(
    r"(?i)(?P<head>\b[a-z][a-z0-9+.\-]*://(?P<user>[^\s/:@,]*):)"
    r"(?P<password>[^\s@]*(?:@[^\s/@?#,]*(?=@))*)@"
)
_SCHEME = re.compile(r"(?i)^\s*[a-z][a-z0-9+.\-]*://")


def redact_text(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@`` URL replaced by ``***``."""
    if "://" not in text or "@" not in text:
        return text
    return _CREDENTIALS.sub(lambda m: f"{m['head']}{MASK}@" if m["password"] else m[0], text)


def redact_url(url: str) -> str:
    """``url`` with the password of its userinfo replaced by ``***`` (e.g. ``ftp://u:***@host/``).

    Unlike free text, a URL is known to be one URL: a password that :func:`redact_text` cannot
    delimit (one with whitespace, say) is still found from the userinfo and hidden.
    """
    redacted = redact_text(url)
    for user, password in _userinfo_candidates(redacted):
        if password and password != MASK:
            redacted = redacted.replace(f"{user}:{password}@", f"{user}:{MASK}@", 1)
    return redacted


def _userinfo_candidates(url: str) -> list[tuple[str, str]]:
    """(user, password) pairs of ``url``: up to the first and up to the last ``@`` of the authority."""
    match = _SCHEME.match(url)
    if not match:
        return []
    rest = url[match.end() :]
    for stop in "?#":
        rest = rest.split(stop, 1)[0]
    if "@" not in rest:
        return []
    pairs = []
    for userinfo in (rest.split("@", 1)[0], rest.rsplit("@", 1)[0]):
        user, sep, password = userinfo.partition(":")
        if sep:
            pairs.append((user, password))
    return pairs


def directive_secrets(url: str) -> list[str]:
    """The credentials inside a directive URL (or a comma-separated list of them).

    Returns the password of every URL, raw and percent-decoded; for ``s3://`` URLs also the
    access key. Order kept, no duplicates, empty values left out.
    """
    if not url:
        return []
    secrets: list[str] = []
    parts = [url, *url.split(",")] if "," in url else [url]
    for part in parts:
        part = part.strip()
        is_s3 = part.lower().startswith("s3://")
        for user, password in _userinfo_candidates(part):
            values = [password, unquote(password)]
            if is_s3:
                values += [user, unquote(user)]
            for value in values:
                if value and value not in secrets:
                    secrets.append(value)
    return secrets


def redact(data: Any) -> Any:
    """A deep copy of ``data`` in which every URL password is replaced by ``***``.

    Dicts, lists and tuples are walked; every string is passed through :func:`redact_text`
    (directive fields, ping URLs, error messages…). Other values are returned unchanged.
    """
    if isinstance(data, str):
        return redact_text(data)
    if isinstance(data, Mapping):
        return {key: redact(value) for key, value in data.items()}
    if isinstance(data, list):
        return [redact(value) for value in data]
    if isinstance(data, tuple):
        return tuple(redact(value) for value in data)
    return data
