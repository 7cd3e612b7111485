"""DAG integrity: the example DAGs import cleanly, are well-formed, and do no I/O while parsed."""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"
EXPECTED_DAGS = {"heywatch_ingest", "heywatch_on_new_source"}
HEAVY_MODULES = ("aiohttp", "av", "boto3", "botocore", "defusedxml", "pyftpdlib", "airflow_heywatch.emulator")


def _dagbag() -> Any:
    try:
        from airflow.dag_processing.dagbag import DagBag  # Airflow 3 (examples off: conftest)
    except ImportError:
        from airflow.models.dagbag import DagBag  # Airflow 2

        return DagBag(dag_folder=str(DAGS_FOLDER), include_examples=False)
    return DagBag(dag_folder=str(DAGS_FOLDER))


@pytest.fixture(scope="module")
def dagbag() -> Any:
    return _dagbag()


def test_dags_import_without_errors(dagbag: Any) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == EXPECTED_DAGS


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_DAGS))
def test_dag_is_documented_tagged_owned_and_retried(dagbag: Any, dag_id: str) -> None:
    dag = dagbag.dags[dag_id]
    assert dag.doc_md and "HeyWatch" in dag.doc_md
    assert "heywatch" in dag.tags
    assert dag.catchup is False
    assert dag.tasks
    for task in dag.tasks:
        assert task.owner not in ("", "airflow"), f"{task.task_id} has no owner"
        assert task.retries >= 1, f"{task.task_id} has no retries"


def test_ingest_dag_is_scheduled_and_wires_operator_sensor_and_publish(dagbag: Any) -> None:
    dag = dagbag.dags["heywatch_ingest"]
    timetable = dag.timetable
    expression = getattr(timetable, "expression", None) or timetable._expression  # 3.x / 2.11
    assert expression == "0 0 * * *"  # @daily
    order = ["plan_downloads", "submit", "wait_for_encodes", "publish"]
    for upstream, downstream in itertools.pairwise(order):
        assert downstream in dag.get_task(upstream).downstream_task_ids
    sensor = dag.get_task("wait_for_encodes")
    assert sensor.partial_kwargs["deferrable"] is True
    assert sensor.partial_kwargs["wait_for_encoding"] is True
    publish = dag.get_task("publish")
    assert [getattr(o, "name", None) for o in publish.outlets] == ["heywatch_encoded_videos"]


def test_new_source_dag_is_scheduled_on_the_upstream_asset(dagbag: Any) -> None:
    dag = dagbag.dags["heywatch_on_new_source"]
    from heywatch_on_new_source import NEW_SOURCE

    assert NEW_SOURCE.uri == "heywatch://sources/landed"
    timetable = dag.timetable
    condition = getattr(timetable, "asset_condition", None) or timetable.dataset_condition  # 3.x / 2.11
    assert type(timetable).__name__ in ("AssetTriggeredTimetable", "DatasetTriggeredTimetable")
    assert NEW_SOURCE.uri in repr(condition)
    ingest = dag.get_task("ingest")
    assert ingest.partial_kwargs["wait_for_completion"] == "encode"
    assert ingest.partial_kwargs["deferrable"] is True


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_DAGS))
def test_dag_has_no_cycle(dagbag: Any, dag_id: str) -> None:
    dag = dagbag.dags[dag_id]
    state: dict[str, str] = {}

    def visit(task_id: str, path: tuple[str, ...]) -> None:
        if state.get(task_id) == "done":
            return
        assert state.get(task_id) != "visiting", f"cycle: {' -> '.join((*path, task_id))}"
        state[task_id] = "visiting"
        for downstream in dag.get_task(task_id).downstream_task_ids:
            visit(downstream, (*path, task_id))
        state[task_id] = "done"

    for task_id in dag.task_ids:
        visit(task_id, ())


def test_ftp_credentials_are_templated_not_hard_coded() -> None:
    from heywatch_delivery import FTP_CONN_ID, FTP_OUTPUTS

    assert [o["format_id"] for o in FTP_OUTPUTS] == [31, 175]
    for output in FTP_OUTPUTS:
        assert output["ftp_directive"].startswith(f"{{{{ conn.{FTP_CONN_ID}.get_uri() }}}}/videos/")


def test_parsing_does_no_network_or_metadata_io(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parse both DAG files with sockets, connections and variables all refusing to work."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("I/O while parsing a DAG file")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    targets = [
        ("airflow.models.variable", "Variable", "get"),
        ("airflow.models.connection", "Connection", "get_connection_from_secrets"),
        ("airflow.sdk", "Variable", "get"),
        ("airflow.sdk", "Connection", "get"),
        ("airflow.sdk", "BaseHook", "get_connection"),
    ]
    for module_name, owner, attribute in targets:
        try:
            module = __import__(module_name, fromlist=[owner])
            monkeypatch.setattr(getattr(module, owner), attribute, refuse)
        except (ImportError, AttributeError):
            continue
    bag = _dagbag()
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == EXPECTED_DAGS


_LOAD_AS_AIRFLOW_DOES = """
import json, sys
from pathlib import Path

folder = Path(sys.argv[1])
try:  # Airflow 3: the DAG processor loads a bundle and puts its folder on sys.path
    from airflow.dag_processing.dagbag import BundleDagBag

    bag = BundleDagBag(dag_folder=folder, bundle_path=folder, bundle_name="dags-folder")
except ImportError:  # Airflow 2: [core] dags_folder is on sys.path
    from airflow.models.dagbag import DagBag

    bag = DagBag(dag_folder=str(folder), include_examples=False)
heavy = json.loads(sys.argv[2])
prefixes = tuple(h + "." for h in heavy)
loaded = sorted(m for m in sys.modules if m in heavy or m.startswith(prefixes))
print(json.dumps({"dags": sorted(bag.dag_ids), "errors": bag.import_errors, "heavy": loaded}))
"""


def test_a_fresh_airflow_process_loads_the_dag_folder_without_heavy_imports() -> None:
    """As a DAG processor would (the shared module found through Airflow's own sys.path rules), and
    without aiohttp, an XML parser, PyAV, boto3 or the emulator: DAG files are parsed often."""
    env = {**os.environ, "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER)}
    result = subprocess.run(
        [sys.executable, "-c", _LOAD_AS_AIRFLOW_DOES, str(DAGS_FOLDER), json.dumps(HEAVY_MODULES)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env=env,
        cwd="/",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == {"dags": sorted(EXPECTED_DAGS), "errors": {}, "heavy": []}
