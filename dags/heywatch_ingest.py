"""
### Daily video ingestion with HeyWatch

For every source video URL of the run (param `source_urls`), one HeyWatch download is submitted that
transfers the file and encodes it to **two formats in one request** — Flash video (format 31) and MP4
(format 175) — each delivered to its own FTP folder (`/videos/flv`, `/videos/mp4`) of the server in
the Airflow connection `heywatch_ftp_destination`.

1. `plan_downloads` turns the params into one request per source (title, custom fields, ping URLs).
2. `submit` (`HeyWatchCreateDownloadOperator`, mapped over the sources) creates the downloads and
   returns at once; the download id is in XCom and a link to it is on the task.
3. `wait_for_encodes` (`HeyWatchDownloadSensor`, deferrable) waits in the triggerer until the
   transfer and both encodes have finished, and fails the task if HeyWatch reports an error.
4. `publish` emits one asset event per delivered file through the alias `heywatch_encoded_videos`
   (extra: download id, video id, encoded video id, format, filename, size, FTP path), so that
   downstream DAGs can be scheduled on the deliveries.

Params: `source_urls` (list of http/https/ftp URLs), `ping_base_url` (optional; HeyWatch then POSTs
to `<ping_base_url>/transfer`, `/encode` and `/error`).
Connections: `heywatch_default` (the HeyWatch API), `heywatch_ftp_destination` (type `ftp`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG, Param, task
from heywatch_delivery import ENCODED_VIDEOS, FTP_OUTPUTS, publish_encoded_videos

from airflow_heywatch.operators.download import HeyWatchCreateDownloadOperator
from airflow_heywatch.sensors.download import HeyWatchDownloadSensor

with DAG(
    dag_id="heywatch_ingest",
    description="Transfer source videos into HeyWatch, encode each to FLV and MP4, deliver both by FTP",
    doc_md=__doc__,
    schedule="@daily",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["heywatch", "video", "example"],
    default_args={
        "owner": "media-platform",
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
    },
    params={
        "source_urls": Param(
            ["https://media.example.com/incoming/clip.mp4"],
            type="array",
            items={"type": "string"},
            minItems=1,
            description="Source videos to ingest (http, https or ftp URLs HeyWatch can reach).",
        ),
        "ping_base_url": Param(
            None,
            type=["null", "string"],
            description="Optional base URL HeyWatch pings after transfer, after encode and on error.",
        ),
    },
) as dag:

    @task
    def plan_downloads(params: dict[str, Any], run_id: str) -> list[dict[str, Any]]:
        """One set of operator arguments per source video."""
        ping = params.get("ping_base_url")
        plans = []
        for index, url in enumerate(params["source_urls"]):
            plans.append(
                {
                    "url": url,
                    "title": url.rstrip("/").rsplit("/", 1)[-1],
                    # Custom fields come back in the pings, so the receiver knows the run and source.
                    "custom_fields": {"dag_run_id": run_id, "source_index": index},
                    "ping_url_after_transfer": f"{ping}/transfer" if ping else None,
                    "ping_url_after_encode": f"{ping}/encode" if ping else None,
                    "ping_url_if_error": f"{ping}/error" if ping else None,
                }
            )
        return plans

    # Submit once per source; a retry of this task never creates a second download.
    submit = HeyWatchCreateDownloadOperator.partial(
        task_id="submit",
        outputs=FTP_OUTPUTS,  # [{"format_id": 31, "ftp_directive": "ftp://…/videos/flv"}, {175 → mp4}]
        heywatch_conn_id="heywatch_default",
    ).expand_kwargs(plan_downloads())

    # Wait without holding a worker slot: the triggerer polls HeyWatch until the transfer and
    # every requested encode has finished (or failed, which fails this task with the error code).
    wait_for_encodes = HeyWatchDownloadSensor.partial(
        task_id="wait_for_encodes",
        wait_for_encoding=True,
        deferrable=True,
        poke_interval=5,
        timeout=timedelta(hours=2).total_seconds(),
        heywatch_conn_id="heywatch_default",
    ).expand(download_id=submit.output)  # the operator's XCom: download id and requested formats

    @task(outlets=[ENCODED_VIDEOS])
    def publish(results: list[dict[str, Any]], outlet_events: Any = None) -> list[dict[str, Any]]:
        """One asset event per delivered file (see `heywatch_delivery.py`)."""
        return publish_encoded_videos(results, outlet_events)

    publish(wait_for_encodes.output)
