"""Register the credentials inside directive URLs with Airflow's secrets masker.

``ftp://login:password@host/path``, ``s3://access_key:secret_key@bucket/key`` and
``https://user:password@host/upload`` carry credentials. Once registered, Airflow masks them in
task logs and in rendered template fields. Values shorter than five characters are never masked
by Airflow: everything the package itself returns or raises is also passed through
:func:`airflow_heywatch.api.redact.redact` / ``redact_text``, which replaces any URL password
regardless of its length.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from airflow_heywatch.api.redact import directive_secrets

__all__ = ["iter_url_secrets", "mask_url_secrets"]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from _strings(item)
    elif value is not None and hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            yield from _strings(getattr(value, name))


def iter_url_secrets(*values: Any) -> Iterator[str]:
    """Every credential found in the URLs among ``values`` (strings, dicts, lists, dataclasses)."""
    seen: set[str] = set()
    for value in values:
        for text in _strings(value):
            if "://" not in text or "@" not in text:
                continue
            for secret in directive_secrets(text):
                if secret not in seen:
                    seen.add(secret)
                    yield secret


def mask_url_secrets(*values: Any) -> list[str]:
    """Register every URL credential among ``values`` with the secrets masker; return them."""
    from airflow.providers.common.compat.sdk import mask_secret

    secrets = list(iter_url_secrets(*values))
    for secret in secrets:
        mask_secret(secret)
    return secrets
