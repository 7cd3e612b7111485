"""
### Ingest a source video as soon as it lands

Scheduled on the asset `heywatch://sources/landed`: whenever an upstream DAG (or the REST API)
records an event on it with `extra={"source_url": "https://…/video.mp4"}`, this DAG ingests that
video — one HeyWatch download encoding it to FLV (31) and MP4 (175), delivered to the FTP folders of
the connection `heywatch_ftp_destination` — and announces each delivered file through the asset
alias `heywatch_encoded_videos`, exactly like `heywatch_ingest`.

Here the operator does the waiting itself: `wait_for_completion="encode"` with `deferrable=True`
submits the download, then hands the wait to the triggerer and returns the download together with
its encoded videos.

An upstream producer announces a new source like this:

```python
from airflow.providers.common.compat.assets import Asset

NEW_SOURCE = Asset(uri="heywatch://sources/landed")

@task(outlets=[NEW_SOURCE])
def land(*, outlet_events):
    outlet_events[NEW_SOURCE].extra = {"source_url": "https://media.example.com/incoming/clip.mp4"}
```

A manual run (no triggering event) ingests the param `source_urls` instead.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.providers.common.compat.assets import Asset
from airflow.providers.common.compat.sdk import DAG, AirflowSkipException, Param, task
from heywatch_delivery import ENCODED_VIDEOS, FTP_OUTPUTS, publish_encoded_videos, source_urls_from_events

from airflow_heywatch.operators.download import HeyWatchCreateDownloadOperator

#: Upstream asset: "a new source video landed"; its events carry ``extra["source_url"]``.
NEW_SOURCE = Asset(uri="heywatch://sources/landed")

with DAG(
    dag_id="heywatch_on_new_source",
    description="Ingest each newly landed source video into HeyWatch (FLV + MP4 over FTP)",
    doc_md=__doc__,
    schedule=[NEW_SOURCE],
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["heywatch", "video", "example", "asset-triggered"],
    default_args={
        "owner": "media-platform",
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
    },
    params={
        "source_urls": Param(
            [],
            type="array",
            items={"type": "string"},
            description="Manual runs only: source videos to ingest when no asset event triggered the run.",
        ),
    },
) as dag:

    @task
    def landed_sources(params: dict[str, Any], **context: Any) -> list[str]:
        """The source URLs of the asset events that triggered this run."""
        events = context.get("triggering_asset_events") or context.get("triggering_dataset_events")
        urls = source_urls_from_events(events, NEW_SOURCE) or list(params.get("source_urls") or [])
        if not urls:
            raise AirflowSkipException(
                f"nothing to ingest: no event on {NEW_SOURCE.uri} triggered this run and the param "
                "'source_urls' is empty"
            )
        return urls

    ingest = HeyWatchCreateDownloadOperator.partial(
        task_id="ingest",
        outputs=FTP_OUTPUTS,
        wait_for_completion="encode",
        deferrable=True,
        poll_interval=5,
        timeout=timedelta(hours=2).total_seconds(),
        heywatch_conn_id="heywatch_default",
    ).expand(url=landed_sources())

    @task(outlets=[ENCODED_VIDEOS])
    def publish(results: list[dict[str, Any]], outlet_events: Any = None) -> list[dict[str, Any]]:
        """One asset event per delivered file (see `heywatch_delivery.py`)."""
        return publish_encoded_videos(results, outlet_events)

    publish(ingest.output)
