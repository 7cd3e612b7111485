"""The built-in public formats (``owner: false``) every emulator account sees."""

from __future__ import annotations

from typing import Any

__all__ = ["BUILTIN_FORMATS", "FIRST_CUSTOM_FORMAT_ID"]

#: Ids of formats created through ``POST /format`` start here.
FIRST_CUSTOM_FORMAT_ID = 10001


def _format(
    id: int,
    name: str,
    *,
    category: str = "formats",
    container: str,
    video_codec: str,
    video_bitrate: float,
    fps: float,
    width: int,
    height: int,
    audio_codec: str,
    audio_bitrate: float,
    sample_rate: int,
    audio_channels: int = 2,
) -> dict[str, Any]:
    return {
        "id": id,
        "name": name,
        "category": category,
        "container": container,
        "video_codec": video_codec,
        "video_bitrate": video_bitrate,
        "audio_bitrate": audio_bitrate,
        "fps": fps,
        "width": width,
        "height": height,
        "sample_rate": sample_rate,
        "audio_channels": audio_channels,
        "audio_codec": audio_codec,
        "two_pass": False,
        "owner": False,
    }


#: Public formats in the 2011 JSON shape, keyed by id. ``fps`` 0 keeps the source frame rate,
#: ``height`` 0 keeps the source aspect ratio.
BUILTIN_FORMATS: dict[int, dict[str, Any]] = {
    f["id"]: f
    for f in (
        _format(
            31,
            "Flash video",
            container="flv",
            video_codec="flv",
            video_bitrate=500.0,
            fps=25.0,
            width=320,
            height=240,
            audio_codec="mp3",
            audio_bitrate=64.0,
            sample_rate=22050,
        ),
        _format(
            175,
            "MP4 H.264/AAC",
            container="mp4",
            video_codec="h264",
            video_bitrate=1000.0,
            fps=25.0,
            width=640,
            height=0,
            audio_codec="aac",
            audio_bitrate=128.0,
            sample_rate=44100,
        ),
        _format(
            1086,
            "Flash Video H264",
            container="mp4",
            video_codec="h264",
            video_bitrate=800.0,
            fps=25.0,
            width=320,
            height=240,
            audio_codec="aac",
            audio_bitrate=96.0,
            sample_rate=44100,
        ),
        _format(
            2010,
            "WebM VP8/Opus",
            container="webm",
            video_codec="vp8",
            video_bitrate=600.0,
            fps=25.0,
            width=320,
            height=0,
            audio_codec="opus",
            audio_bitrate=96.0,
            sample_rate=48000,
        ),
        _format(
            2020,
            "Mobile MP4 (H.264/AAC, 320px)",
            category="devices",
            container="mp4",
            video_codec="h264",
            video_bitrate=300.0,
            fps=15.0,
            width=320,
            height=0,
            audio_codec="aac",
            audio_bitrate=48.0,
            sample_rate=22050,
            audio_channels=1,
        ),
        _format(
            2030,
            "3GP H.263 (QCIF phones)",
            category="devices",
            container="3gp",
            video_codec="h263",
            video_bitrate=200.0,
            fps=15.0,
            width=176,
            height=144,
            audio_codec="aac",
            audio_bitrate=32.0,
            sample_rate=22050,
            audio_channels=1,
        ),
    )
}
