"""HeyWatch v1 API core: models, statuses, decoding, errors, job options, redaction.

Pure Python, no Airflow imports. The main names are re-exported lazily, so importing this
package costs nothing until a name is used (the XML parser is only loaded when XML is decoded).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    # errors
    "ERROR_CODES": "errors",
    "describe_error_code": "errors",
    "HeyWatchError": "errors",
    "HeyWatchValidationError": "errors",
    "HeyWatchAPIError": "errors",
    "HeyWatchAuthError": "errors",
    "HeyWatchNotFoundError": "errors",
    "HeyWatchBadRequestError": "errors",
    "HeyWatchNotAcceptableError": "errors",
    "HeyWatchRateLimitError": "errors",
    "HeyWatchServerError": "errors",
    "HeyWatchTransportError": "errors",
    "HeyWatchDecodeError": "errors",
    "HeyWatchRemoteFailure": "errors",
    # status
    "DownloadStatus": "status",
    "JobStatus": "status",
    "Verdict": "status",
    "classify": "status",
    "parse_download_status": "status",
    "parse_job_status": "status",
    # decoding
    "decode_body": "decoding",
    "decode_error_message": "decoding",
    # options
    "Output": "options",
    "build_job_params": "options",
    "validate_job_params": "options",
    # redaction
    "directive_secrets": "redact",
    "redact": "redact",
    "redact_url": "redact",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
