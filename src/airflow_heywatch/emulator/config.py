"""Settings of one emulator instance (the CLI options, also settable in-process)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

__all__ = ["EmulatorConfig"]


@dataclass
class EmulatorConfig:
    """What an emulator instance needs to know.

    ``transfer_rate`` throttles every transfer to that many kilobytes per second (``None``: as fast
    as possible). ``s3_endpoint_url`` is where ``s3://`` directives are delivered (a local
    S3-compatible server); without it boto3's default AWS endpoint is used. The settings that the
    pipeline reads (``transfer_rate``, ``s3_*``, timeouts) may be changed while the emulator runs.
    """

    login: str = "heywatch"
    password: str = "heywatch"
    data_dir: Path | None = None
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    transfer_rate: float | None = None
    transfer_workers: int = 4
    encode_workers: int = 2
    transfer_timeout: float = 30.0
    ping_timeout: float = 10.0
    automatic_encode: bool = False
    default_format: int = 175

    def copy(self) -> EmulatorConfig:
        """An independent copy (used to restore the settings on reset)."""
        return replace(self)
