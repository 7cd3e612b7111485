"""Checks that the ingestion really happened, from the outside.

Nothing here trusts what a task said about itself: the downloads, jobs, encoded videos and formats
are read back from the HeyWatch API, each delivered file is opened and fully decoded with PyAV
from the FTP server's folder, the pings are those the receiver recorded and the asset events are
those the Airflow metadata database holds.

:func:`collect_downloads` and :func:`recorded_asset_events` gather; :func:`verify` compares and
returns a :class:`Report` whose ``checks`` say what passed and what did not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

# FFmpeg decoder names → the codec names HeyWatch formats use.
_HEYWATCH_CODEC = {"flv1": "flv", "mp3float": "mp3", "aac_fixed": "aac", "libx264": "h264"}
# HeyWatch container names → the FFmpeg demuxer name where they differ.
_DEMUXER = {"mkv": "matroska", "psp": "mp4"}


class HeyWatchReader(Protocol):
    """The part of :class:`~airflow_heywatch.hooks.heywatch.HeyWatchHook` the checks read with."""

    def list_downloads(self) -> list[dict[str, Any]]: ...
    def get_video(self, video_id: int) -> dict[str, Any]: ...
    def list_jobs(self) -> list[dict[str, Any]]: ...
    def get_encoded_video(self, encoded_video_id: int) -> dict[str, Any]: ...
    def get_format(self, format_id: int) -> dict[str, Any]: ...


class PingLike(Protocol):
    path: str

    @property
    def fields(self) -> Mapping[str, str]: ...


@dataclass(frozen=True)
class MediaFile:
    """What opening a file with PyAV and decoding every packet found."""

    container: str  # FFmpeg's demuxer names, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    video_codec: str
    width: int
    height: int
    audio_codec: str
    duration: float
    video_frames: int
    audio_frames: int
    size_bytes: int


@dataclass
class Output:
    """One requested format of one download, as HeyWatch reports it and as it was delivered."""

    job: dict[str, Any]
    format: dict[str, Any]
    encoded_video: dict[str, Any] | None
    ftp_path: str | None = None
    media: MediaFile | None = None


@dataclass
class DownloadRecord:
    download: dict[str, Any]
    video: dict[str, Any] | None
    outputs: list[Output] = field(default_factory=list)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class Report:
    downloads: list[DownloadRecord]
    pings: list[PingLike]
    asset_events: list[dict[str, Any]]
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append(Check(name, bool(ok), detail))
        return bool(ok)


def open_media(path: Path) -> MediaFile:
    """Open ``path`` with PyAV and decode all of it; raises if it is not a playable video."""
    import av

    with av.open(str(path)) as container:
        if not container.streams.video:
            raise ValueError(f"{path.name} has no video stream")
        vstream = container.streams.video[0]
        astream = container.streams.audio[0] if container.streams.audio else None
        video_frames = audio_frames = 0
        streams = [s for s in (vstream, astream) if s is not None]
        for frame in container.decode(*streams):
            if isinstance(frame, av.VideoFrame):
                video_frames += 1
            else:
                audio_frames += 1
        vctx = vstream.codec_context
        duration = 0.0
        if vstream.duration is not None and vstream.time_base is not None:
            duration = float(vstream.duration * vstream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        return MediaFile(
            container=container.format.name,
            video_codec=_HEYWATCH_CODEC.get(vctx.name, vctx.name),
            width=int(vctx.width),
            height=int(vctx.height),
            audio_codec=_HEYWATCH_CODEC.get(astream.codec_context.name, astream.codec_context.name)
            if astream is not None
            else "",
            duration=round(duration, 2),
            video_frames=video_frames,
            audio_frames=audio_frames,
            size_bytes=path.stat().st_size,
        )


def container_matches(heywatch_container: str | None, demuxer_names: str) -> bool:
    """Whether a HeyWatch container name (``mp4``, ``flv``…) is among FFmpeg's demuxer names."""
    if not heywatch_container:
        return False
    return _DEMUXER.get(heywatch_container, heywatch_container) in demuxer_names.split(",")


def collect_downloads(
    reader: HeyWatchReader, download_ids: Iterable[int] | None = None
) -> list[DownloadRecord]:
    """Read every download (or those of ``download_ids``) with its video, jobs, encodes and formats."""
    wanted = None if download_ids is None else {int(i) for i in download_ids}
    jobs = reader.list_jobs()
    formats: dict[int, dict[str, Any]] = {}
    records = []
    for download in sorted(reader.list_downloads(), key=lambda d: d["id"]):
        if wanted is not None and download["id"] not in wanted:
            continue
        video_id = download.get("video_id") or 0
        video = reader.get_video(video_id) if video_id else None
        record = DownloadRecord(download=download, video=video)
        for job in sorted(
            (j for j in jobs if video_id and j.get("video_id") == video_id), key=lambda j: j["id"]
        ):
            format_id = int(job["format_id"])
            if format_id not in formats:
                formats[format_id] = reader.get_format(format_id)
            encoded_id = job.get("encoded_video_id") or 0
            encoded = reader.get_encoded_video(encoded_id) if encoded_id else None
            record.outputs.append(Output(job=job, format=formats[format_id], encoded_video=encoded))
        records.append(record)
    return records


def recorded_asset_events(dag_id: str, run_id: str | None = None) -> list[dict[str, Any]]:
    """Asset events the metadata database holds for ``dag_id`` (and ``run_id``), oldest first.

    Works on Airflow 3 (``AssetEvent``) and 2 (``DatasetEvent``); needs Airflow configured for the
    database to read.
    """
    from airflow.utils.session import create_session

    try:
        from airflow.models.asset import AssetEvent as Event

        def uri_of(event: Any) -> str:
            return event.asset.uri
    except ImportError:  # Airflow 2
        from airflow.models.dataset import DatasetEvent as Event

        def uri_of(event: Any) -> str:
            return event.dataset.uri

    with create_session() as session:
        query = session.query(Event).filter(Event.source_dag_id == dag_id)
        if run_id is not None:
            query = query.filter(Event.source_run_id == run_id)
        return [
            {
                "uri": uri_of(event),
                "extra": dict(event.extra or {}),
                "source_task_id": event.source_task_id,
                "source_run_id": event.source_run_id,
                "timestamp": event.timestamp,
            }
            for event in query.order_by(Event.id)
        ]


def _ftp_file(ftp_root: Path, ftp_path: str) -> Path:
    path = (ftp_root / ftp_path.lstrip("/")).resolve()
    if ftp_root.resolve() not in path.parents:
        raise ValueError(f"{ftp_path!r} points outside the FTP root")
    return path


def verify(
    downloads: Sequence[DownloadRecord],
    *,
    expected_format_ids: Sequence[int],
    ftp_root: Path,
    pings: Sequence[PingLike],
    asset_events: Sequence[Mapping[str, Any]],
    expected_downloads: int,
    source_duration: float | None = None,
) -> Report:
    """Compare what HeyWatch, the FTP server, the ping receiver and Airflow hold; fill ``checks``."""
    report = Report(
        downloads=list(downloads), pings=list(pings), asset_events=[dict(e) for e in asset_events]
    )
    report.check(
        "downloads",
        len(downloads) == expected_downloads,
        f"{len(downloads)} download(s), expected {expected_downloads}",
    )
    events_by_encoded = {e["extra"].get("encoded_video_id"): e for e in asset_events}
    for record in downloads:
        d = record.download
        report.check(
            f"download {d['id']} finished",
            d.get("status") == "finished" and record.video is not None,
            f"status {d.get('status')!r}, video {d.get('video_id')}"
            + (f", error {d.get('error_code')}: {d.get('error_msg')}" if d.get("error_code") else ""),
        )
        got_formats = [int(o.job["format_id"]) for o in record.outputs]
        report.check(
            f"download {d['id']} formats",
            sorted(got_formats) == sorted(expected_format_ids),
            f"jobs for formats {got_formats}, expected {list(expected_format_ids)}",
        )
        for output in record.outputs:
            _verify_output(report, d, output, ftp_root, events_by_encoded, source_duration)
        _verify_pings(report, record, pings)
    delivered = sum(1 for r in downloads for o in r.outputs if o.encoded_video)
    report.check(
        "asset events",
        len(asset_events) == delivered and delivered > 0,
        f"{len(asset_events)} asset event(s) for {delivered} delivered output(s)",
    )
    errors = [p for p in pings if p.path.rstrip("/").endswith("/error")]
    report.check("no error ping", not errors, f"{len(errors)} error ping(s)")
    return report


def _verify_output(
    report: Report,
    download: Mapping[str, Any],
    output: Output,
    ftp_root: Path,
    events_by_encoded: Mapping[Any, Mapping[str, Any]],
    source_duration: float | None,
) -> None:
    job, fmt, encoded = output.job, output.format, output.encoded_video
    label = f"format {job['format_id']} ({fmt.get('name')})"
    if not report.check(
        f"{label} encoded",
        job.get("status") == "finished" and encoded is not None,
        f"job {job['id']} status {job.get('status')!r}"
        + (f", error {job.get('error_code')}: {job.get('error_msg')}" if job.get("error_code") else ""),
    ):
        return
    assert encoded is not None
    event = events_by_encoded.get(encoded["id"])
    if not report.check(
        f"{label} asset event",
        event is not None,
        f"encoded video {encoded['id']}: "
        + (f"event on {event['uri']}" if event else "no asset event names it"),
    ):
        return
    assert event is not None
    extra = event["extra"]
    report.check(
        f"{label} asset event extra",
        extra.get("download_id") == download["id"]
        and int(extra.get("format_id", -1)) == int(job["format_id"])
        and extra.get("filename") == encoded.get("filename")
        and extra.get("video_id") == download.get("video_id"),
        f"extra {extra}",
    )
    output.ftp_path = extra.get("ftp_path")
    if not output.ftp_path:
        report.check(f"{label} delivered", False, "the asset event has no ftp_path")
        return
    path = _ftp_file(ftp_root, output.ftp_path)
    if not report.check(f"{label} delivered", path.is_file(), f"{output.ftp_path} on the FTP server"):
        return
    try:
        media = open_media(path)
    except Exception as exc:  # any decoding failure means "not playable"
        report.check(f"{label} playable", False, f"{output.ftp_path}: {exc}")
        return
    output.media = media
    specs = encoded.get("specs") or {}
    video_specs = specs.get("video") or {}
    report.check(
        f"{label} playable",
        media.video_frames > 0 and media.audio_frames > 0,
        f"{media.video_frames} video and {media.audio_frames} audio frames decoded",
    )
    container_ok = container_matches(fmt.get("container"), media.container)
    report.check(
        f"{label} container and codecs",
        container_ok
        and media.video_codec == fmt.get("video_codec")
        and (not fmt.get("audio_codec") or media.audio_codec == fmt.get("audio_codec")),
        f"file {fmt.get('container') if container_ok else media.container}/{media.video_codec}/"
        f"{media.audio_codec or '-'}, format "
        f"{fmt.get('container')}/{fmt.get('video_codec')}/{fmt.get('audio_codec') or '-'}",
    )
    report.check(
        f"{label} resolution",
        (media.width, media.height) == (video_specs.get("width"), video_specs.get("height"))
        and (not fmt.get("width") or media.width == fmt.get("width")),
        f"file {media.width}x{media.height}, reported "
        f"{video_specs.get('width')}x{video_specs.get('height')}, format width {fmt.get('width')}",
    )
    if source_duration:
        report.check(
            f"{label} duration",
            abs(media.duration - source_duration) <= 0.5,
            f"file {media.duration:.2f} s, source {source_duration:.2f} s",
        )


def _verify_pings(report: Report, record: DownloadRecord, pings: Sequence[PingLike]) -> None:
    d = record.download
    video_id = d.get("video_id")
    transfer = [
        p
        for p in pings
        if p.path.rstrip("/").endswith("/transfer") and str(p.fields.get("video_id")) == str(video_id)
    ]
    report.check(
        f"download {d['id']} transfer ping",
        len(transfer) == 1,
        f"{len(transfer)} ping(s) with video_id {video_id}",
    )
    encoded_ids = {str(o.encoded_video["id"]) for o in record.outputs if o.encoded_video}
    encode = {
        str(p.fields.get("encoded_video_id"))
        for p in pings
        if p.path.rstrip("/").endswith("/encode") and str(p.fields.get("encoded_video_id")) in encoded_ids
    }
    report.check(
        f"download {d['id']} encode pings",
        bool(encoded_ids) and encode == encoded_ids,
        f"pings for encoded videos {sorted(encode)}, expected {sorted(encoded_ids)}",
    )
