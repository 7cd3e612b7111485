"""A throwaway Airflow installation for the demo: its home, its settings and its connections.

Everything is passed through environment variables (the same for the demo process and the
``airflow`` commands it runs): a SQLite metadata database inside the workspace, the repository's
``dags/`` folder, no example DAGs, and two connections given as JSON —
``heywatch_default`` (the emulator) and ``heywatch_ftp_destination`` (the local FTP server).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from demo.processes import ManagedProcess

REPO_ROOT = Path(__file__).resolve().parent.parent
DAGS_FOLDER = REPO_ROOT / "dags"


def connection_env(conn_id: str, payload: Mapping[str, object]) -> tuple[str, str]:
    """``AIRFLOW_CONN_<ID>`` and its JSON value (extras as a JSON string, as Airflow expects)."""
    body = dict(payload)
    if isinstance(body.get("extra"), Mapping):
        body["extra"] = json.dumps(body["extra"])
    return f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(body)


def airflow_env(home: Path) -> dict[str, str]:
    """The settings of the demo's Airflow (to merge into the environment of every Airflow command)."""
    from cryptography.fernet import Fernet

    home.mkdir(parents=True, exist_ok=True)
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        # The emulator and the local servers are on the loopback interface: never through a proxy.
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


def connections_env(
    *,
    heywatch_url: str,
    heywatch_login: str,
    heywatch_password: str,
    ftp_port: int,
    ftp_login: str,
    ftp_password: str,
    api_format: str = "json",
) -> dict[str, str]:
    """``heywatch_default`` (the emulator) and ``heywatch_ftp_destination`` (the FTP server)."""
    extra: dict[str, object] = {"timeout": 10}
    if api_format != "json":  # json is the default
        extra["format"] = api_format
    heywatch = {
        "conn_type": "heywatch",
        "host": heywatch_url,
        "login": heywatch_login,
        "password": heywatch_password,
        "extra": extra,
    }
    ftp = {
        "conn_type": "ftp",
        "host": "127.0.0.1",
        "port": ftp_port,
        "login": ftp_login,
        "password": ftp_password,
    }
    return dict(
        (connection_env("heywatch_default", heywatch), connection_env("heywatch_ftp_destination", ftp))
    )


def airflow_command(*args: str) -> list[str]:
    """``python -m airflow <args>`` with this interpreter (the demo's virtualenv)."""
    return [sys.executable, "-m", "airflow", *args]


def start_migration(env: Mapping[str, str], log_path: Path) -> ManagedProcess:
    """``airflow db migrate`` in the background (it takes a while; the demo starts servers meanwhile)."""
    return ManagedProcess(
        "airflow db migrate", airflow_command("db", "migrate"), {**os.environ, **env}, log_path
    )


def finish_migration(migration: ManagedProcess, timeout: float = 240) -> None:
    """Wait for :func:`start_migration`; raises with the log's tail when it failed."""
    code = migration.wait(timeout=timeout)
    if code != 0:
        raise RuntimeError(f"airflow db migrate failed (exit {code}):\n{migration.log_tail()}")


def airflow_major_version() -> int:
    from importlib.metadata import version

    return int(version("apache-airflow").split(".")[0])


def write_dags_to_database(env: Mapping[str, str], log_path: Path, timeout: float = 180) -> None:
    """``airflow dags reserialize``: what a DAG processor does before the first run.

    Airflow 2 needs it before ``airflow dags test``: a task can emit events through an asset alias
    only when the alias exists in the database. (Airflow 3's ``dags test`` writes the DAGs itself.)
    """
    process = ManagedProcess(
        "airflow dags reserialize", airflow_command("dags", "reserialize"), {**os.environ, **env}, log_path
    )
    try:
        code = process.wait(timeout=timeout)
    finally:
        process.stop()
    if code != 0:
        raise RuntimeError(f"airflow dags reserialize failed (exit {code}):\n{process.log_tail()}")
