"""The example DAGs run end to end against the emulator, checked with the demo's own checks.

Real servers on 127.0.0.1 (emulator, media HTTP, FTP, ping receiver), a real clip, real
``dag.test()`` runs with the deferrable waits run inline; the results are read back from the
emulator's API, the FTP folder (each file decoded with PyAV), the ping receiver and Airflow's
metadata database.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fixtures.servers import EMULATOR_PASSWORD, FTP_PASSWORD

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO_ROOT / "dags"

pytestmark = [pytest.mark.integration, pytest.mark.dag]


def _dag(dag_id: str) -> Any:
    """The DAG as the DAG processor sees it (and, on Airflow 2, written to the database as it does:
    an asset alias must exist there before a task can emit events through it)."""
    try:
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=str(DAGS_FOLDER))
    except ImportError:
        from airflow.models.dagbag import DagBag

        bag = DagBag(dag_folder=str(DAGS_FOLDER), include_examples=False)
        bag.sync_to_db()
    assert bag.import_errors == {}
    return bag.dags[dag_id]


@pytest.fixture
def connections(
    emulator: Any, ftp_server: Any, heywatch_connection: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``heywatch_default`` → the emulator, ``heywatch_ftp_destination`` → the FTP server."""
    from demo.airflow_home import connection_env

    heywatch_connection(emulator.base_url, emulator.login, emulator.password)
    name, value = connection_env(
        "heywatch_ftp_destination",
        {
            "conn_type": "ftp",
            "host": ftp_server.host,
            "port": ftp_server.port,
            "login": ftp_server.user,
            "password": ftp_server.password,
        },
    )
    monkeypatch.setenv(name, value)


def _pings(ping_receiver: Any) -> list[Any]:
    from demo.servers import Ping

    return [Ping(path=r.path, fields={**r.query, **r.form}) for r in ping_receiver.requests]


def _report(
    dag_id: str, run_id: str, ftp_server: Any, ping_receiver: Any, sources: int, duration: float
) -> Any:
    from demo.verify import collect_downloads, recorded_asset_events, verify
    from heywatch_delivery import OUTPUT_FOLDERS

    from airflow_heywatch.hooks.heywatch import HeyWatchHook

    with HeyWatchHook() as hook:
        downloads = collect_downloads(hook)
    return verify(
        downloads,
        expected_format_ids=list(OUTPUT_FOLDERS),
        ftp_root=ftp_server.root,
        pings=_pings(ping_receiver),
        asset_events=recorded_asset_events(dag_id, run_id),
        expected_downloads=sources,
        source_duration=duration,
    )


def _failures(report: Any) -> list[str]:
    return [f"{c.name}: {c.detail}" for c in report.checks if not c.ok]


def _assert_no_secret(result: Any) -> None:
    texts = [result.output, json.dumps({t: r.xcoms for t, r in result.tasks.items()}, default=str)]
    for text in texts:
        assert FTP_PASSWORD not in text
        assert EMULATOR_PASSWORD not in text


@pytest.fixture
def sources(sample_video: Path, media_server: Any) -> list[str]:
    return [media_server.add(sample_video, "clip-a.mp4"), media_server.add(sample_video, "clip-b.mp4")]


def test_ingest_dag_delivers_two_formats_per_source_and_announces_each(
    connections: None,
    sources: list[str],
    sample_video: Path,
    ftp_server: Any,
    ping_receiver: Any,
    dag_runner: Any,
) -> None:
    from demo.verify import open_media

    dag = _dag("heywatch_ingest")
    result = dag_runner(
        dag, run_conf={"source_urls": sources, "ping_base_url": ping_receiver.url("/heywatch")}
    )
    assert result.state == "success", result.output[-5000:]

    assert ftp_server.files() == [
        "videos/flv/clip-a_31.flv",
        "videos/flv/clip-b_31.flv",
        "videos/mp4/clip-a_175.mp4",
        "videos/mp4/clip-b_175.mp4",
    ]
    published = result.xcom("publish")
    assert [(e["uri"].rsplit("/", 2)[-2:], e["format_id"]) for e in published] == [
        (["videos", "flv"], 31),
        (["videos", "mp4"], 175),
        (["videos", "flv"], 31),
        (["videos", "mp4"], 175),
    ]
    assert all(e["uri"].startswith(f"ftp://127.0.0.1:{ftp_server.port}/") for e in published)

    report = _report(
        "heywatch_ingest",
        result.run_id,
        ftp_server,
        ping_receiver,
        len(sources),
        open_media(sample_video).duration,
    )
    assert report.ok, _failures(report)
    assert len(report.asset_events) == 4
    _assert_no_secret(result)


def test_the_checks_catch_a_missing_and_a_broken_delivery(
    connections: None,
    sources: list[str],
    sample_video: Path,
    ftp_server: Any,
    ping_receiver: Any,
    dag_runner: Any,
) -> None:
    """The demo's verdict can fail: remove one delivered file and truncate another."""
    from demo.verify import open_media

    result = dag_runner(_dag("heywatch_ingest"), run_conf={"source_urls": sources[:1]})
    assert result.state == "success", result.output[-5000:]
    (ftp_server.root / "videos/flv/clip-a_31.flv").unlink()
    mp4 = ftp_server.root / "videos/mp4/clip-a_175.mp4"
    mp4.write_bytes(mp4.read_bytes()[:2048])

    report = _report(
        "heywatch_ingest", result.run_id, ftp_server, ping_receiver, 1, open_media(sample_video).duration
    )
    assert not report.ok
    failed = {c.name for c in report.checks if not c.ok}
    assert "format 31 (Flash video) delivered" in failed
    assert "format 175 (MP4 H.264/AAC) playable" in failed
    # No ping_base_url in this run: the ping checks fail too, as they must.
    assert any(name.endswith("transfer ping") for name in failed)


def test_new_source_dag_ingests_the_manual_sources_with_the_operator_waiting(
    connections: None,
    sources: list[str],
    sample_video: Path,
    ftp_server: Any,
    ping_receiver: Any,
    dag_runner: Any,
) -> None:
    dag = _dag("heywatch_on_new_source")
    result = dag_runner(dag, run_conf={"source_urls": sources[:1]})
    assert result.state == "success", result.output[-5000:]
    assert ftp_server.files() == ["videos/flv/clip-a_31.flv", "videos/mp4/clip-a_175.mp4"]
    published = result.xcom("publish")
    assert [e["filename"] for e in published] == ["clip-a_31.flv", "clip-a_175.mp4"]
    from demo.verify import recorded_asset_events

    events = recorded_asset_events("heywatch_on_new_source", result.run_id)
    assert [e["extra"]["encoded_video_id"] for e in events] == [e["encoded_video_id"] for e in published]
    _assert_no_secret(result)


def test_new_source_dag_skips_when_nothing_landed(connections: None, dag_runner: Any) -> None:
    result = dag_runner(_dag("heywatch_on_new_source"))
    assert result.state_of("landed_sources") == "skipped"
    assert "nothing to ingest" in result.output
