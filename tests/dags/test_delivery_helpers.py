"""The example DAGs' shared helpers, fed with the event objects Airflow itself hands to tasks."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from airflow.providers.common.compat.assets import Asset
from heywatch_delivery import ENCODED_VIDEOS, FTP_OUTPUTS, ftp_folder_uri, source_urls_from_events

AIRFLOW_3 = int(__import__("airflow").__version__.split(".")[0]) >= 3
LANDED = Asset(uri="heywatch://sources/landed")
OTHER = Asset(uri="heywatch://sources/elsewhere")


def _triggering_events(events: list[tuple[Asset, dict[str, Any], list[str]]]) -> Any:
    """What a task finds in ``triggering_asset_events`` (3.x) / ``triggering_dataset_events`` (2.11)."""
    if AIRFLOW_3:
        from airflow.sdk.execution_time.comms import AssetEventDagRunReferenceResult
        from airflow.sdk.execution_time.context import TriggeringAssetEventsAccessor

        return TriggeringAssetEventsAccessor.build(
            [
                AssetEventDagRunReferenceResult(
                    asset={"name": asset.uri, "uri": asset.uri, "extra": {}},
                    extra=extra,
                    source_task_id="land",
                    source_dag_id="upstream",
                    source_run_id="manual__1",
                    source_map_index=-1,
                    source_aliases=[{"name": name} for name in aliases],
                    timestamp=datetime.now(timezone.utc),
                )
                for asset, extra, aliases in events
            ]
        )
    from collections import defaultdict

    from airflow.models.dataset import DatasetEvent

    by_uri: dict[str, list[Any]] = defaultdict(list)
    for asset, extra, _aliases in events:
        by_uri[asset.uri].append(DatasetEvent(extra=extra, source_dag_id="upstream"))
    return by_uri


def test_source_urls_come_from_the_landed_asset_events_in_order() -> None:
    events = _triggering_events(
        [
            (LANDED, {"source_url": "http://media.local/a.mp4"}, []),
            (OTHER, {"source_url": "http://media.local/not-this.mp4"}, []),
            (LANDED, {"source_url": "http://media.local/b.mp4"}, ["some_alias"]),
        ]
    )
    assert source_urls_from_events(events, LANDED) == ["http://media.local/a.mp4", "http://media.local/b.mp4"]


def test_no_events_means_no_sources() -> None:
    assert source_urls_from_events(None, LANDED) == []
    assert source_urls_from_events(_triggering_events([]), LANDED) == []


def test_an_event_without_source_url_is_a_clear_error() -> None:
    events = _triggering_events([(LANDED, {"url": "http://media.local/a.mp4"}, [])])
    with pytest.raises(ValueError, match=r"no 'source_url' in its extra .*extra=\{'source_url'"):
        source_urls_from_events(events, LANDED)


@pytest.mark.skipif(not AIRFLOW_3, reason="Airflow 2.11 keys triggering events by URI only")
def test_a_downstream_dag_reads_the_deliveries_through_the_alias() -> None:
    """What the README's downstream example relies on."""
    delivered = Asset(uri=ftp_folder_uri("127.0.0.1", 2121, "videos/mp4"))
    events = _triggering_events([(delivered, {"ftp_path": "/videos/mp4/a_175.mp4"}, [ENCODED_VIDEOS.name])])
    assert [e.extra["ftp_path"] for e in events[ENCODED_VIDEOS]] == ["/videos/mp4/a_175.mp4"]


def test_folder_uris_never_carry_credentials() -> None:
    assert ftp_folder_uri("ftp.example.com", None, "videos/flv") == "ftp://ftp.example.com/videos/flv"
    assert ftp_folder_uri("127.0.0.1", 2121, "videos/mp4") == "ftp://127.0.0.1:2121/videos/mp4"
    assert all("@" not in o["ftp_directive"].split("}}")[-1] for o in FTP_OUTPUTS)
