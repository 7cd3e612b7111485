"""Shared by the example DAGs: where encoded videos are delivered and how each delivery is announced.

The example DAGs ask HeyWatch for two renditions of every source video in one request — Flash video
(format 31) and MP4 (format 175) — and have each delivered to its own folder of one FTP server. The
FTP server and its credentials come from the Airflow connection ``heywatch_ftp_destination`` (type
``ftp``: host, port, login, password; no extras). The directive URLs are templates, rendered when the
task runs: nothing is looked up while the DAG file is parsed, and the password is registered with
the secrets masker, so it never shows in task logs, rendered fields or XCom.

Every delivered file becomes one asset event on the asset of its folder (``ftp://host:port/videos/mp4``),
attached through the asset alias ``heywatch_encoded_videos``. Downstream DAGs can be scheduled on the
alias, or on the folder asset they care about, and read the event's ``extra``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow.providers.common.compat.assets import Asset, AssetAlias

#: Airflow connection holding the FTP destination (type ``ftp``).
FTP_CONN_ID = "heywatch_ftp_destination"

#: The FTP folder of each requested HeyWatch format, in request order.
OUTPUT_FOLDERS: dict[int, str] = {
    31: "videos/flv",  # Flash video (FLV)
    175: "videos/mp4",  # MP4 (H.264/AAC)
}

#: ``outputs`` for ``HeyWatchCreateDownloadOperator``: one format and one FTP folder per output.
#: ``get_uri()`` percent-encodes the login and password, so any character is safe in them.
FTP_OUTPUTS: list[dict[str, Any]] = [
    {"format_id": format_id, "ftp_directive": f"{{{{ conn.{FTP_CONN_ID}.get_uri() }}}}/{folder}"}
    for format_id, folder in OUTPUT_FOLDERS.items()
]

#: The alias every delivered output is announced through.
ENCODED_VIDEOS = AssetAlias(name="heywatch_encoded_videos")


def ftp_folder_uri(host: str, port: int | None, folder: str) -> str:
    """The asset URI of a delivery folder; never carries credentials."""
    netloc = f"{host}:{port}" if port else host
    return f"ftp://{netloc}/{folder}"


def publish_encoded_videos(results: Iterable[Mapping[str, Any]], outlet_events: Any) -> list[dict[str, Any]]:
    """Add one asset event per delivered output and return the events' extras.

    ``results`` are what ``HeyWatchDownloadSensor`` (``wait_for_encoding=True``) or
    ``HeyWatchCreateDownloadOperator`` (``wait_for_completion="encode"``) returned: a download with
    its ``encoded_videos``. Extras hold only flat values, as Airflow needs.
    """
    from airflow.providers.common.compat.sdk import BaseHook

    ftp = BaseHook.get_connection(FTP_CONN_ID)
    published: list[dict[str, Any]] = []
    for download in results:
        for encoded in download.get("encoded_videos") or []:
            format_id = int(encoded["format_id"])
            folder = OUTPUT_FOLDERS.get(format_id)
            if folder is None:
                raise ValueError(
                    f"encoded video {encoded.get('id')} has format {format_id}, which is not in "
                    f"OUTPUT_FOLDERS {sorted(OUTPUT_FOLDERS)}: add its FTP folder there"
                )
            uri = ftp_folder_uri(ftp.host, ftp.port, folder)
            extra = {
                "download_id": download["id"],
                "video_id": encoded.get("video_id") or download.get("video_id"),
                "encoded_video_id": encoded["id"],
                "job_id": encoded.get("job_id"),
                "format_id": format_id,
                "format_name": encoded.get("format_name"),
                "filename": encoded.get("filename"),
                "size": encoded.get("size"),
                "ftp_path": f"/{folder}/{encoded.get('filename')}",
                "source_url": download.get("url"),
            }
            outlet_events[ENCODED_VIDEOS].add(Asset(uri=uri), extra=extra)
            published.append({"uri": uri, **extra})
    if not published:
        raise ValueError("no encoded video to publish: the download results carry no 'encoded_videos'")
    return published


def source_urls_from_events(triggering_events: Mapping[Any, Any] | None, asset: Asset) -> list[str]:
    """The ``source_url`` of every triggering event of ``asset``, in event order.

    Works with Airflow 3's ``triggering_asset_events`` (keyed by asset) and Airflow 2's
    ``triggering_dataset_events`` (keyed by URI).
    """
    urls: list[str] = []
    for key, events in (triggering_events or {}).items():
        if getattr(key, "uri", key) != asset.uri:
            continue
        for event in events:
            url = (event.extra or {}).get("source_url")
            if not url:
                raise ValueError(
                    f"an event on {asset.uri} has no 'source_url' in its extra ({event.extra!r}): "
                    "the producer must emit extra={'source_url': 'https://…/video.mp4'}"
                )
            urls.append(url)
    return urls
