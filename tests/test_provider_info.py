"""Provider registration: metadata schema, entry point, and the Airflow CLI seeing the provider."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import airflow
import jsonschema
import pytest
from cryptography.fernet import Fernet

from airflow_heywatch import __version__
from airflow_heywatch.get_provider_info import get_provider_info

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hooks.sample_server import LOGIN, PASSWORD, SampleServer

#: One Fernet key for every CLI process of this module (without one, each process makes its own
#: and cannot read the passwords another stored).
AIRFLOW_3 = int(airflow.__version__.split(".")[0]) >= 3

_FERNET_KEY = Fernet.generate_key().decode()


def airflow_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airflow", *args],
        env={**os.environ, "AIRFLOW__CORE__FERNET_KEY": _FERNET_KEY, **(env or {})},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def json_output(stdout: str) -> list[dict]:
    """The JSON document of a CLI command's output (log lines may come before it)."""
    start = next(i for i, line in enumerate(stdout.splitlines()) if line.startswith(("[{", "[]")))
    return json.loads("\n".join(stdout.splitlines()[start:]))


def test_provider_info_matches_airflows_schema():
    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    info = get_provider_info()
    jsonschema.validate(info, schema)
    assert info["package-name"] == "airflow-heywatch"
    assert info["versions"] == [__version__]
    (conn_type,) = info["connection-types"]
    assert conn_type["connection-type"] == "heywatch"
    assert conn_type["hook-class-name"] == "airflow_heywatch.hooks.heywatch.HeyWatchHook"


def test_declared_modules_and_classes_import():
    import importlib

    info = get_provider_info()
    modules = [m for section in ("hooks",) for entry in info[section] for m in entry["python-modules"]]
    for module in modules:
        importlib.import_module(module)
    module_name, _, class_name = info["connection-types"][0]["hook-class-name"].rpartition(".")
    hook_class = getattr(importlib.import_module(module_name), class_name)
    assert (
        hook_class.conn_type,
        hook_class.conn_name_attr,
        hook_class.default_conn_name,
        hook_class.hook_name,
    ) == (
        "heywatch",
        "heywatch_conn_id",
        "heywatch_default",
        "HeyWatch",
    )


def test_providers_manager_resolves_the_connection_type():
    from airflow.providers_manager import ProvidersManager

    hook_info = ProvidersManager().hooks.get("heywatch")
    assert hook_info is not None, "the providers manager could not import or accept HeyWatchHook"
    assert hook_info.hook_class_name == "airflow_heywatch.hooks.heywatch.HeyWatchHook"
    assert hook_info.connection_id_attribute_name == "heywatch_conn_id"


def test_entry_point_is_registered():
    (entry_point,) = [
        ep for ep in entry_points(group="apache_airflow_provider") if ep.dist.name == "airflow-heywatch"
    ]
    assert entry_point.value == "airflow_heywatch.get_provider_info:get_provider_info"
    assert entry_point.load()()["package-name"] == "airflow-heywatch"


def test_airflow_providers_list_shows_the_provider():
    result = airflow_cli("providers", "list", "-o", "json")
    assert result.returncode == 0, result.stderr
    names = {p["package_name"]: p for p in json_output(result.stdout)}
    assert "airflow-heywatch" in names
    assert names["airflow-heywatch"]["version"] == __version__


def test_connections_add_stores_the_heywatch_type(airflow_db):
    conn_id = "heywatch_cli_added"
    added = airflow_cli(
        "connections",
        "add",
        conn_id,
        "--conn-type",
        "heywatch",
        "--conn-host",
        "http://127.0.0.1:8080",
        "--conn-login",
        "demo",
        "--conn-password",
        "demo-password",
        "--conn-extra",
        '{"format": "xml"}',
    )
    assert added.returncode == 0, added.stderr
    shown = airflow_cli("connections", "get", conn_id, "-o", "json")
    assert shown.returncode == 0, shown.stderr
    (stored,) = json_output(shown.stdout)
    assert stored["conn_type"] == "heywatch"
    assert stored["host"] == "http://127.0.0.1:8080"


@pytest.fixture
def sample_server():
    with SampleServer() as server:
        yield server


def _conn_env(conn_id: str, url: str, password: str) -> dict[str, str]:
    conn = {"conn_type": "heywatch", "host": url, "login": LOGIN, "password": password}
    return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(conn), "AIRFLOW__CORE__TEST_CONNECTION": "Enabled"}


def test_connections_test_against_the_local_server(airflow_db, sample_server):
    good = airflow_cli(
        "connections",
        "test",
        "heywatch_cli_test",
        env=_conn_env("heywatch_cli_test", sample_server.url, PASSWORD),
    )
    assert good.returncode == 0, good.stdout + good.stderr
    assert "success" in (good.stdout + good.stderr).lower()

    bad = airflow_cli(
        "connections",
        "test",
        "heywatch_cli_test",
        env=_conn_env("heywatch_cli_test", sample_server.url, "wrong-password"),
    )
    output = bad.stdout + bad.stderr
    assert "Connection failed" in output
    if AIRFLOW_3:  # Airflow 2 prints the failure but exits 0
        assert bad.returncode != 0, output
    assert "401" in output
    assert "password" in output
    assert "wrong-password" not in output
    assert [r.path for r in sample_server.requests] == ["/account.json", "/account.json"]
