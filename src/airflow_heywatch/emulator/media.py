"""Real media work with PyAV: sample clips, probing (``specs``), encoding to a format, thumbnails.

Every function here is synchronous and CPU-bound; the pipeline runs them in worker threads.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

__all__ = [
    "AUDIO_CODECS",
    "CONTAINERS",
    "VIDEO_CODECS",
    "MediaError",
    "Probe",
    "encode",
    "generate_sample_video",
    "probe",
    "write_thumbnail",
]


class MediaError(Exception):
    """A media failure with the HeyWatch ``error_code`` that describes it."""

    def __init__(self, error_code: int, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message


@dataclass(frozen=True)
class Container:
    """How a HeyWatch container name maps onto an FFmpeg muxer."""

    muxer: str
    extension: str
    mime_type: str


# HeyWatch container names (the documented list plus webm/mkv) → FFmpeg muxer.
CONTAINERS: dict[str, Container] = {
    "flv": Container("flv", "flv", "video/x-flv"),
    "mp4": Container("mp4", "mp4", "video/mp4"),
    "psp": Container("psp", "mp4", "video/mp4"),
    "mov": Container("mov", "mov", "video/quicktime"),
    "3gp": Container("3gp", "3gp", "video/3gpp"),
    "3g2": Container("3g2", "3g2", "video/3gpp2"),
    "avi": Container("avi", "avi", "video/x-msvideo"),
    "asf": Container("asf", "asf", "video/x-ms-asf"),
    "mpeg": Container("mpeg", "mpg", "video/mpeg"),
    "mpegts": Container("mpegts", "ts", "video/mp2t"),
    "ogg": Container("ogg", "ogv", "video/ogg"),
    "webm": Container("webm", "webm", "video/webm"),
    "mkv": Container("matroska", "mkv", "video/x-matroska"),
}

# HeyWatch video codec names → FFmpeg encoder.
VIDEO_CODECS: dict[str, str] = {
    "flv": "flv",
    "h264": "libx264",
    "mpeg4": "mpeg4",
    "xvid": "mpeg4",
    "h263": "h263",
    "mjpeg": "mjpeg",
    "mpeg1video": "mpeg1video",
    "mpeg2video": "mpeg2video",
    "wmv1": "wmv1",
    "wmv2": "wmv2",
    "vp8": "libvpx",
    "vp9": "libvpx-vp9",
}

# HeyWatch audio codec names → FFmpeg encoder.
AUDIO_CODECS: dict[str, str] = {
    "mp3": "libmp3lame",
    "mp2": "mp2",
    "aac": "aac",
    "ac3": "ac3",
    "flac": "flac",
    "pcm": "pcm_s16le",
    "pcm_u8": "pcm_u8",
    "opus": "libopus",
    "vorbis": "libopus",
}

# Codec names as HeyWatch reported them where FFmpeg's differ.
_REPORTED_CODEC = {"flv1": "flv", "mp3float": "mp3", "aac_fixed": "aac"}

# Container names as reported in specs, from FFmpeg demuxer names.
_DEMUXER_NAMES = {
    "flv": "flv",
    "matroska": "mkv",
    "webm": "webm",
    "asf": "asf",
    "avi": "avi",
    "mpeg": "mpeg",
    "mpegts": "mpegts",
    "ogg": "ogg",
}

_MIME_BY_CONTAINER = {name: c.mime_type for name, c in CONTAINERS.items()}

_ENCODER_OPTIONS: dict[str, dict[str, str]] = {
    "libx264": {"preset": "ultrafast", "tune": "fastdecode"},
    "libvpx": {"deadline": "good", "cpu-used": "5", "lag-in-frames": "0"},
    "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8", "row-mt": "1"},
}

# Rates that only exist as NTSC fractions.
_NTSC = {23.98: Fraction(24000, 1001), 29.97: Fraction(30000, 1001), 14.985: Fraction(15000, 1001)}

# First bytes of video containers: a file that starts like a video but cannot be read is
# "unreadable" (106), anything else is "not a video file" (107).
_VIDEO_SIGNATURES: tuple[tuple[int, bytes], ...] = (
    (4, b"ftyp"),
    (4, b"moov"),
    (4, b"mdat"),
    (0, b"FLV"),
    (0, b"\x1a\x45\xdf\xa3"),
    (0, b"RIFF"),
    (0, b"OggS"),
    (0, b"\x00\x00\x01\xba"),
    (0, b"\x00\x00\x01\xb3"),
    (0, b"\x30\x26\xb2\x75"),
    (0, b"\x47"),
)


# Demuxers that FFmpeg finds a "video" stream in although the file is not a video (text, stills).
_NOT_VIDEO_DEMUXERS = {"tty", "image2", "lavfi", "txt", "srt", "ass", "webvtt"}


def generate_sample_video(
    path: str | Path, seconds: float = 2, width: int = 320, height: int = 240, fps: int = 25
) -> Path:
    """Write a real MP4 (H.264 test pattern + AAC 440 Hz tone) of ``seconds`` seconds to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    video_src = av.open(f"testsrc=size={width}x{height}:rate={fps}:duration={seconds}", format="lavfi")
    audio_src = av.open(f"sine=frequency=440:sample_rate=44100:duration={seconds}", format="lavfi")
    try:
        with av.open(str(path), "w", format="mp4") as out:
            vstream = out.add_stream("libx264", rate=fps, options=_ENCODER_OPTIONS["libx264"])
            vstream.width, vstream.height, vstream.pix_fmt = width, height, "yuv420p"
            vstream.bit_rate = 400_000
            astream = out.add_stream("aac", rate=44100, layout="stereo")
            astream.bit_rate = 96_000
            for frame in video_src.decode(video=0):
                for packet in vstream.encode(frame.reformat(format="yuv420p")):
                    out.mux(packet)
            for packet in vstream.encode(None):
                out.mux(packet)
            for frame in audio_src.decode(audio=0):
                frame.pts = None
                for packet in astream.encode(frame):
                    out.mux(packet)
            for packet in astream.encode(None):
                out.mux(packet)
    finally:
        video_src.close()
        audio_src.close()
    return path


def _looks_like_video(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(16)
    return any(head[offset : offset + len(sig)] == sig for offset, sig in _VIDEO_SIGNATURES)


def _container_name(container: Any) -> str:
    names = container.format.name.split(",")
    if "mp4" in names or "mov" in names:
        brand = str(container.metadata.get("major_brand", "")).strip()
        if brand == "qt":
            return "mov"
        if brand.startswith("3g2"):
            return "3g2"
        if brand.startswith("3gp"):
            return "3gp"
        return "mp4"
    if "matroska" in names and "webm" in names:
        return "webm" if container.metadata.get("doctype", "webm") == "webm" else "mkv"
    return _DEMUXER_NAMES.get(names[0], names[0])


def _kbps(value: int | None) -> int:
    return round(value / 1000) if value else 0


def _size_kb(path: Path) -> int:
    return math.ceil(path.stat().st_size / 1024)


@dataclass(frozen=True)
class Probe:
    """What probing found: ``specs`` in the 2011 JSON shape (without ``thumb``) and the exact duration."""

    specs: dict[str, Any]
    duration: float


def probe(path: str | Path) -> Probe:
    """Probe a media file.

    Raises :class:`MediaError` 107 when the file is not a video and 106 when it looks like a
    video but cannot be read.
    """
    path = Path(path)
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        if _looks_like_video(path):
            raise MediaError(106, f"Cannot retrieve info from this video: {exc}") from exc
        raise MediaError(107, "Not a video file") from exc
    with container:
        demuxer = container.format.name
        if not container.streams.video or demuxer in _NOT_VIDEO_DEMUXERS or demuxer.endswith("_pipe"):
            raise MediaError(107, "Not a video file")
        vstream = container.streams.video[0]
        astream = container.streams.audio[0] if container.streams.audio else None
        try:
            first = next(container.decode(vstream), None)
        except av.FFmpegError as exc:
            raise MediaError(106, f"Cannot retrieve info from this video: {exc}") from exc
        if first is None:
            raise MediaError(106, "Cannot retrieve info from this video: no decodable frame")
        ctx = vstream.codec_context
        width, height = ctx.width or first.width, ctx.height or first.height
        duration = _duration(container, vstream)
        sar = ctx.sample_aspect_ratio or Fraction(1)
        aspect = round(width * float(sar) / height, 2) if height else 0.0
        fps = float(vstream.average_rate or vstream.guessed_rate or 0)
        name = _container_name(container)
        audio_bitrate = _kbps(astream.bit_rate) if astream else 0
        video_bitrate = _kbps(vstream.bit_rate)
        if not video_bitrate and container.bit_rate:
            video_bitrate = max(_kbps(container.bit_rate) - audio_bitrate, 0)
        video: dict[str, Any] = {
            "stream": float(f"0.{vstream.index}"),
            "codec": _REPORTED_CODEC.get(ctx.name, ctx.name),
            "container": name,
            "aspect": aspect,
            "bitrate": video_bitrate,
            "height": height,
            "length": round(duration),
            "fps": round(fps, 3),
            "width": width,
            "rotation": 0,
        }
        if astream is not None:
            actx = astream.codec_context
            synched = (
                _start(astream) is not None and abs((_start(astream) or 0) - (_start(vstream) or 0)) < 0.1
            )
            audio: dict[str, Any] = {
                "sample_rate": actx.sample_rate,
                "synched": synched,
                "stream": float(f"0.{astream.index}"),
                "codec": _REPORTED_CODEC.get(actx.name, actx.name),
                "bitrate": audio_bitrate,
                "channels": actx.channels,
            }
        else:
            audio = {
                "sample_rate": 0,
                "synched": False,
                "stream": 0.0,
                "codec": "",
                "bitrate": 0,
                "channels": 0,
            }
        specs = {
            "audio": audio,
            "size": _size_kb(path),
            "mime_type": _MIME_BY_CONTAINER.get(name, "application/octet-stream"),
            "video": video,
        }
        return Probe(specs=specs, duration=duration)


def _start(stream: Any) -> float | None:
    if stream.start_time is None or stream.time_base is None:
        return None
    return float(stream.start_time * stream.time_base)


def _duration(container: Any, vstream: Any) -> float:
    if vstream.duration is not None and vstream.time_base is not None:
        return float(vstream.duration * vstream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0


def write_thumbnail(source: str | Path, target: str | Path, width: int = 240) -> Path:
    """Write the first frame of ``source`` as a JPEG ``width`` pixels wide to ``target``."""
    target = Path(target)
    with av.open(str(source)) as container:
        frame = next(container.decode(video=0))
        height = max(2, round(frame.height * width / frame.width / 2) * 2)
        with av.open(str(target), "w", format="image2") as out:
            stream = out.add_stream("mjpeg", rate=1)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuvj420p"
            image = frame.reformat(width=width, height=height, format="yuvj420p")
            image.pts = 0
            for packet in stream.encode(image):
                out.mux(packet)
            for packet in stream.encode(None):
                out.mux(packet)
    return target


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def _rate(fps: float) -> Fraction:
    for nominal, exact in _NTSC.items():
        if abs(fps - nominal) < 0.001:
            return exact
    return Fraction(fps).limit_denominator(1001)


def _flag(options: Mapping[str, Any], name: str) -> bool:
    value = options.get(name)
    return value is True or str(value).lower() == "true"


def encode(
    source: str | Path,
    target_dir: str | Path,
    basename: str,
    fmt: Mapping[str, Any],
    options: Mapping[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Path:
    """Encode ``source`` with the settings of format ``fmt``; returns the written file.

    ``options`` are the job's encoding options (``keep_video_size``, ``keep_fps``,
    ``keep_quality`` are honoured). ``progress`` is called with 0 to 100. Raises
    :class:`MediaError` with 103 (format not encodable), 104/105 (bad audio/video settings) or
    106 (source unreadable).
    """
    options = options or {}
    container_spec = CONTAINERS.get(str(fmt.get("container", "")))
    video_encoder = VIDEO_CODECS.get(str(fmt.get("video_codec", "")))
    if container_spec is None or video_encoder is None:
        raise MediaError(
            103,
            f"This video cannot be encoded in this format "
            f"(container {fmt.get('container')!r}, video codec {fmt.get('video_codec')!r})",
        )
    audio_codec = str(fmt.get("audio_codec") or "")
    audio_encoder = AUDIO_CODECS.get(audio_codec) if audio_codec else None
    if audio_codec and audio_encoder is None:
        raise MediaError(101, f"Unsupported audio codec {audio_codec!r}")
    keep_quality = _flag(options, "keep_quality")
    keep_size = keep_quality or _flag(options, "keep_video_size")
    keep_fps = keep_quality or _flag(options, "keep_fps")

    target = Path(target_dir) / f"{basename}.{container_spec.extension}"
    try:
        source_container = av.open(str(source))
    except av.FFmpegError as exc:
        raise MediaError(106, f"Cannot retrieve info from this video: {exc}") from exc
    with source_container:
        if not source_container.streams.video:
            raise MediaError(107, "Not a video file: it has no video stream")
        in_video = source_container.streams.video[0]
        in_audio = source_container.streams.audio[0] if source_container.streams.audio else None
        src_w, src_h = in_video.codec_context.width, in_video.codec_context.height
        src_fps = float(in_video.average_rate or in_video.guessed_rate or 25)
        duration = _duration(source_container, in_video) or 1.0

        if keep_size or not fmt.get("width"):
            width, height = src_w, src_h
        else:
            width = int(fmt["width"])
            height = int(fmt.get("height") or 0) or round(width * src_h / src_w)
        width, height = _even(width), _even(height)
        fps = src_fps if keep_fps or not fmt.get("fps") else float(fmt["fps"])
        rate = _rate(fps)

        try:
            out = av.open(str(target), "w", format=container_spec.muxer)
        except av.FFmpegError as exc:
            raise MediaError(103, f"This video cannot be encoded in this format: {exc}") from exc
        try:
            try:
                vstream = out.add_stream(
                    video_encoder, rate=rate, options=_ENCODER_OPTIONS.get(video_encoder, {})
                )
                vstream.width, vstream.height = width, height
                vstream.pix_fmt = "yuvj420p" if video_encoder == "mjpeg" else "yuv420p"
                bitrate = in_video.bit_rate if keep_quality and in_video.bit_rate else None
                vstream.bit_rate = bitrate or int(float(fmt.get("video_bitrate") or 500) * 1000)
                vstream.codec_context.time_base = 1 / rate
                vstream.codec_context.open()
            except (av.FFmpegError, ValueError) as exc:
                raise MediaError(105, f"Wrong settings for video: {exc}") from exc
            astream = None
            if audio_encoder and in_audio is not None and int(fmt.get("audio_channels") or 2) > 0:
                sample_rate = int(fmt.get("sample_rate") or 0) or in_audio.codec_context.sample_rate
                if keep_quality:
                    sample_rate = in_audio.codec_context.sample_rate
                if audio_encoder == "libopus":
                    sample_rate = 48000
                channels = int(fmt.get("audio_channels") or 2)
                if keep_quality:
                    channels = in_audio.codec_context.channels
                try:
                    astream = out.add_stream(
                        audio_encoder, rate=sample_rate, layout="mono" if channels == 1 else "stereo"
                    )
                    astream.bit_rate = int(float(fmt.get("audio_bitrate") or 96) * 1000)
                    astream.codec_context.open()
                except (av.FFmpegError, ValueError) as exc:
                    raise MediaError(104, f"Wrong settings for audio: {exc}") from exc

            streams = [in_video] + ([in_audio] if astream is not None and in_audio is not None else [])
            next_index = 0
            start: float | None = None
            last_percent = -1
            for packet in source_container.demux(*streams):
                if should_stop is not None and should_stop():
                    raise MediaError(100, "Encoding cancelled")
                try:
                    frames = packet.decode()
                except av.FFmpegError as exc:
                    raise MediaError(106, f"Cannot read this video: {exc}") from exc
                for frame in frames:
                    if packet.stream.type == "video":
                        t = float(frame.time or 0.0)
                        start = t if start is None else start
                        target_index = round((t - start) * float(rate))
                        image = frame.reformat(width=width, height=height, format=vstream.pix_fmt)
                        while next_index <= target_index:
                            image.pts = next_index
                            image.time_base = vstream.codec_context.time_base
                            for out_packet in vstream.encode(image):
                                out.mux(out_packet)
                            next_index += 1
                        percent = min(99, int(100 * (t - start) / duration))
                        if progress is not None and percent != last_percent:
                            last_percent = percent
                            progress(percent)
                    elif astream is not None:
                        frame.pts = None
                        for out_packet in astream.encode(frame):
                            out.mux(out_packet)
            for out_packet in vstream.encode(None):
                out.mux(out_packet)
            if astream is not None:
                for out_packet in astream.encode(None):
                    out.mux(out_packet)
        except MediaError:
            out.close()
            target.unlink(missing_ok=True)
            raise
        except av.FFmpegError as exc:
            out.close()
            target.unlink(missing_ok=True)
            raise MediaError(103, f"This video cannot be encoded in this format: {exc}") from exc
        out.close()
    if progress is not None:
        progress(100)
    return target
