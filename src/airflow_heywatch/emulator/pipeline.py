"""What happens after a create: transfer → probe → (automatic) jobs → encode → deliver → pings.

Runs on the server's event loop. Transfers are bounded by ``transfer_workers``; encodes (PyAV,
CPU-bound) run in a thread pool of ``encode_workers`` so the API stays responsive.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import shutil
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote, urlsplit

import aiohttp

from airflow_heywatch.api.redact import redact_text
from airflow_heywatch.emulator import media
from airflow_heywatch.emulator.delivery import DeliveryError, deliver_ftp, deliver_http, deliver_s3
from airflow_heywatch.emulator.params import OutputRequest
from airflow_heywatch.emulator.pings import send_ping
from airflow_heywatch.emulator.store import Download, EncodedVideo, Job, Video
from airflow_heywatch.emulator.transfer import TransferError, fetch

if TYPE_CHECKING:
    from airflow_heywatch.emulator.state import State

__all__ = ["Pipeline"]

log = logging.getLogger("airflow_heywatch.emulator.pipeline")

T = TypeVar("T")

# error_code of a failed delivery (HeyWatch documents no specific code for it).
DELIVERY_ERROR_CODE = 100


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "video"


def _source_name(url: str) -> str:
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return _slug(name) if name else "source"


def _clock(seconds: float) -> str:
    whole = max(0, round(seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


class Pipeline:
    """Background work of one emulator: tasks, worker limits, the HTTP client for pings/uploads."""

    def __init__(self, state: State) -> None:
        self.state = state
        config = state.config
        self.transfer_slots = asyncio.Semaphore(max(1, config.transfer_workers))
        self.encode_slots = asyncio.Semaphore(max(1, config.encode_workers))
        self.executor = ThreadPoolExecutor(
            max_workers=max(1, config.encode_workers), thread_name_prefix="encode"
        )
        self.running = asyncio.Event()
        self.running.set()
        self.cancelled = threading.Event()
        self.generation = 0
        self.tasks: set[asyncio.Task[Any]] = set()
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers={"User-Agent": "HeyWatch emulator"})
        return self._session

    # ------------------------------------------------------------------ lifecycle

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("pipeline task failed", exc_info=task.exception())

    async def cancel_all(self) -> None:
        """Stop every transfer, encode and pending ping (used by reset and shutdown)."""
        self.generation += 1
        self.cancelled.set()
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.cancelled = threading.Event()
        self.running.set()

    async def close(self) -> None:
        await self.cancel_all()
        if self._session is not None:
            await self._session.close()
        self.executor.shutdown(wait=False, cancel_futures=True)

    def pause(self) -> None:
        """Hold new transfers and encodes in ``pending`` until :meth:`resume`."""
        self.running.clear()

    def resume(self) -> None:
        self.running.set()

    async def _in_thread(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(func, *args, **kwargs))

    def _ping(self, url: str | None, fields: dict[str, Any]) -> None:
        if url:
            self.spawn(send_ping(self.session, url, fields, self.state.config.ping_timeout))

    # ------------------------------------------------------------------ downloads

    def submit_download(self, download: Download) -> None:
        self.spawn(self._run_download(download))

    async def _run_download(self, download: Download) -> None:
        await self.running.wait()
        async with self.transfer_slots:
            if self.state.store.downloads.get(download.id) is not download:
                return
            await self._transfer(download)

    async def _transfer(self, download: Download) -> None:
        state = self.state
        download.status = "downloading"
        download.touch()
        folder = state.data_dir / "downloads" / str(download.id)
        source = folder / _source_name(download.url)
        started = time.monotonic()

        def progress(received: int, total: int | None) -> None:
            elapsed = max(time.monotonic() - started, 1e-3)
            speed = received / 1024 / elapsed
            download.current_length = received // 1024
            if total:
                download.length = max(1, -(-total // 1024))
                download.percent = min(99, int(received * 100 / total))
                download.time_left = _clock((total - received) / 1024 / speed) if speed else "??"
            download.speed = int(speed)
            download.touch()

        try:
            size = await fetch(
                download.url,
                source,
                session=self.session,
                rate=state.config.transfer_rate,
                timeout=state.config.transfer_timeout,
                on_progress=progress,
                cancelled=self.cancelled,
            )
            probe = await self._in_thread(media.probe, source)
        except (TransferError, media.MediaError) as exc:
            shutil.rmtree(folder, ignore_errors=True)
            self._fail_download(download, exc.error_code, exc.message)
            return
        if state.store.downloads.get(download.id) is not download:  # deleted meanwhile
            shutil.rmtree(folder, ignore_errors=True)
            return
        if download.max_length and probe.duration > download.max_length:
            shutil.rmtree(folder, ignore_errors=True)
            self._fail_download(
                download,
                108,
                f"Video too long: {probe.duration:.1f} s is longer than max_length {download.max_length} s",
            )
            return

        store = state.store
        video_id = store.next_id("video")
        video_dir = state.data_dir / "videos" / str(video_id)
        video_dir.mkdir(parents=True, exist_ok=True)
        path = video_dir / source.name
        shutil.move(str(source), path)
        shutil.rmtree(folder, ignore_errors=True)
        await self._thumbnail(path, video_dir / "thumb.jpg")
        video = Video(
            id=video_id,
            title=download.title,
            filename=path.name,
            path=path,
            specs=probe.specs,
            download_id=download.id,
        )
        store.videos[video_id] = video
        download.video_id = video_id
        download.length = max(1, -(-size // 1024))
        download.current_length = download.length
        download.percent = 100
        download.time_left = "00:00:00"
        download.status = "finished"
        download.touch()
        self._ping(
            download.ping_url_after_transfer or store.settings.get("ping_url_after_transfer"),
            {"download_id": download.id, "video_id": video_id, **download.custom_fields},
        )
        if download.automatic_encode:
            for output in download.outputs:
                job = state.create_job(
                    video_id=video_id,
                    output=output,
                    encoding_options=download.encoding_options,
                    ping_url_after_encode=download.ping_url_after_encode,
                    ping_url_if_error=download.ping_url_if_error,
                    custom_fields=download.custom_fields,
                    download_id=download.id,
                )
                self.submit_job(job)

    def _fail_download(self, download: Download, error_code: int, message: str) -> None:
        message = redact_text(message)
        download.status = "error"
        download.error_code = error_code
        download.error_msg = message
        download.speed = 0
        download.time_left = "00:00:00"
        download.touch()
        log.info("download %s failed: %s %s", download.id, error_code, message)
        self._ping(
            download.ping_url_if_error or self.state.store.settings.get("ping_url_if_error"),
            {
                "download_id": download.id,
                "error_code": error_code,
                "error_msg": message,
                **download.custom_fields,
            },
        )

    async def _thumbnail(self, source: Path, target: Path) -> None:
        try:
            await self._in_thread(media.write_thumbnail, source, target)
        except Exception:
            log.warning("no thumbnail for %s", source.name, exc_info=True)

    # ------------------------------------------------------------------ jobs

    def submit_job(self, job: Job) -> None:
        self.spawn(self._run_job(job))

    async def _run_job(self, job: Job) -> None:
        await self.running.wait()
        async with self.encode_slots:
            if self.state.store.jobs.get(job.id) is not job or job.status != "pending":
                return
            await self._encode(job)

    async def _encode(self, job: Job) -> None:
        state, store = self.state, self.state.store
        video = store.videos.get(job.video_id)
        fmt = store.formats.get(job.format_id)
        if video is None or not video.path.exists():
            self._fail_job(job, 106, "Cannot retrieve info from this video: the video was deleted")
            return
        if fmt is None:
            self._fail_job(
                job, 103, f"This video cannot be encoded in this format: format {job.format_id} is gone"
            )
            return
        job.status = "working"
        job.touch()
        loop = asyncio.get_running_loop()
        generation = self.generation

        def on_progress(percent: int) -> None:
            def apply() -> None:
                if generation == self.generation and job.status == "working":
                    job.progress = min(90, percent * 90 // 100)
                    job.touch()

            loop.call_soon_threadsafe(apply)

        out_dir = state.data_dir / "encoded" / str(job.id)
        out_dir.mkdir(parents=True, exist_ok=True)
        basename = f"{_slug(Path(video.filename).stem)}_{job.format_id}"
        try:
            output = await self._in_thread(
                media.encode,
                video.path,
                out_dir,
                basename,
                fmt,
                job.encoding_options,
                on_progress,
                lambda: generation != self.generation,
            )
            probe = await self._in_thread(media.probe, output)
        except media.MediaError as exc:
            shutil.rmtree(out_dir, ignore_errors=True)
            self._fail_job(job, exc.error_code, exc.message)
            return
        await self._thumbnail(output, out_dir / "thumb.jpg")
        encoded_id = store.next_id("encoded_video")
        specs = dict(probe.specs)
        specs["format_name"] = fmt["name"]
        specs["format_id"] = str(fmt["id"])
        encoded = EncodedVideo(
            id=encoded_id,
            title=video.title,
            filename=output.name,
            path=output,
            job_id=job.id,
            video_id=video.id,
            specs=specs,
        )
        store.encoded_videos[encoded_id] = encoded
        job.encoded_video_id = encoded_id
        job.progress = 90
        job.touch()
        try:
            await self._deliver(job, encoded)
        except DeliveryError as exc:
            self._fail_job(job, DELIVERY_ERROR_CODE, str(exc))
            return
        job.status = "finished"
        job.progress = 100
        job.touch()
        self._ping(
            job.ping_url_after_encode or store.settings.get("ping_url_after_encode"),
            {
                "encoded_video_id": encoded.id,
                "video_id": video.id,
                "job_id": job.id,
                "filename": encoded.filename,
                "link": f"{state.base_url}/encoded_video/{encoded.id}.bin",
                **job.custom_fields,
            },
        )

    async def _deliver(self, job: Job, encoded: EncodedVideo) -> None:
        config = self.state.config
        mime = str(encoded.specs.get("mime_type") or "application/octet-stream")
        if job.ftp_directive:
            await deliver_ftp(job.ftp_directive, encoded.path, encoded.filename, config.transfer_timeout)
        if job.s3_directive:
            await deliver_s3(
                job.s3_directive,
                encoded.path,
                encoded.filename,
                endpoint_url=config.s3_endpoint_url,
                region=config.s3_region,
                mime_type=mime,
            )
        if job.http_upload_directive:
            fields = {
                "encoded_video_id": str(encoded.id),
                "video_id": str(encoded.video_id),
                "job_id": str(job.id),
                **job.custom_fields,
            }
            await deliver_http(
                self.session,
                job.http_upload_directive,
                encoded.path,
                encoded.filename,
                fields,
                mime_type=mime,
                timeout=config.transfer_timeout,
            )
        if job.cf_directive:
            log.info("job %s: cf_directive is recorded but CloudFiles delivery is not emulated", job.id)

    def _fail_job(self, job: Job, error_code: int, message: str) -> None:
        message = redact_text(message)
        job.status = "error"
        job.error_code = error_code
        job.error_msg = message
        job.touch()
        log.info("job %s failed: %s %s", job.id, error_code, message)
        self._ping(
            job.ping_url_if_error or self.state.store.settings.get("ping_url_if_error"),
            {"job_id": job.id, "error_code": error_code, "error_msg": message, **job.custom_fields},
        )


def new_job(job_id: int, video_id: int, output: OutputRequest, **fields: Any) -> Job:
    """A pending job for one requested output."""
    return Job(
        id=job_id,
        video_id=video_id,
        format_id=output.format_id,
        ftp_directive=output.ftp_directive,
        s3_directive=output.s3_directive,
        http_upload_directive=output.http_upload_directive,
        cf_directive=output.cf_directive,
        **fields,
    )
