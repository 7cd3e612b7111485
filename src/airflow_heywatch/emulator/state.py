"""Everything one emulator instance holds: config, store, faults, pipeline, data folder."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from airflow_heywatch.emulator.config import EmulatorConfig
from airflow_heywatch.emulator.faults import FaultBook
from airflow_heywatch.emulator.params import OutputRequest
from airflow_heywatch.emulator.pipeline import Pipeline, new_job
from airflow_heywatch.emulator.store import Job, Store

__all__ = ["State"]


class State:
    """The emulator's state; created inside the server's event loop."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self._initial = config.copy()
        self.owns_data_dir = config.data_dir is None
        self.data_dir = (
            Path(tempfile.mkdtemp(prefix="heywatch-emulator-"))
            if config.data_dir is None
            else Path(config.data_dir)
        )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        #: The URL clients reach the emulator at (set once the port is known; used in pings).
        self.base_url = "http://127.0.0.1"
        self.store = self._new_store()
        self.faults = FaultBook()
        self.pipeline = Pipeline(self)

    def _new_store(self) -> Store:
        return Store(
            self.config.login,
            automatic_encode=self.config.automatic_encode,
            default_format=self.config.default_format,
        )

    def create_job(
        self,
        *,
        video_id: int,
        output: OutputRequest,
        encoding_options: dict[str, Any],
        ping_url_after_encode: str | None,
        ping_url_if_error: str | None,
        custom_fields: dict[str, str] | None = None,
        download_id: int | None = None,
    ) -> Job:
        """Record a pending job (the caller submits it to the pipeline)."""
        job = new_job(
            self.store.next_id("job"),
            video_id,
            output,
            encoding_options=dict(encoding_options),
            ping_url_after_encode=ping_url_after_encode,
            ping_url_if_error=ping_url_if_error,
            custom_fields=dict(custom_fields or {}),
            download_id=download_id,
        )
        self.store.jobs[job.id] = job
        return job

    async def reset(self) -> None:
        """Back to a fresh account: no records, no faults, initial settings, empty data folder."""
        await self.pipeline.cancel_all()
        for name, value in self._initial.__dict__.items():
            setattr(self.config, name, value)
        self.store = self._new_store()
        self.faults.clear()
        for child in self.data_dir.iterdir():
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)

    async def close(self) -> None:
        await self.pipeline.close()
        if self.owns_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
