"""A throwaway Airflow installation for the demo: its home, its settings and its connections.

Everything is passed through environment variables (the same for the demo process and the
``airflow`` commands it runs): a SQLite metadata database inside the workspace, the repository's
``dags/`` folder, no example DAGs, and two connections given as JSON —
``heywatch_default`` (the emulator) and ``heywatch_ftp_destination`` (the local FTP server).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DAGS_FOLDER = REPO_ROOT / "dags"


def connection_env(conn_id: str, payload: Mapping[str, object]) -> tuple[str, str]:
    """``AIRFLOW_CONN_<ID>`` and its JSON value (extras as a JSON string, as Airflow expects)."""
    body = dict(payload)
    if isinstance(body.get("extra"), Mapping):
        body["extra"] = json.dumps(body["extra"])
    return f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(body)


def airflow_env(
    home: Path,
    *,
    heywatch_url: str,
    heywatch_login: str,
    heywatch_password: str,
    ftp_port: int,
    ftp_login: str,
    ftp_password: str,
) -> dict[str, str]:
    """The environment variables of the demo's Airflow (to merge into ``os.environ``)."""
    from cryptography.fernet import Fernet

    home.mkdir(parents=True, exist_ok=True)
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGBAG_IMPORT_ERROR_TRACEBACK_DEPTH": "10",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        # The emulator and the local servers are on the loopback interface: never through a proxy.
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    for conn_id, payload in (
        (
            "heywatch_default",
            {
                "conn_type": "heywatch",
                "host": heywatch_url,
                "login": heywatch_login,
                "password": heywatch_password,
                "extra": {"format": "json", "timeout": 10},
            },
        ),
        (
            "heywatch_ftp_destination",
            {
                "conn_type": "ftp",
                "host": "127.0.0.1",
                "port": ftp_port,
                "login": ftp_login,
                "password": ftp_password,
            },
        ),
    ):
        name, value = connection_env(conn_id, payload)
        env[name] = value
    return env


def airflow_command(*args: str) -> list[str]:
    """``python -m airflow <args>`` with this interpreter (the demo's virtualenv)."""
    return [sys.executable, "-m", "airflow", *args]


def migrate_database(env: Mapping[str, str], log_path: Path, timeout: float = 180) -> None:
    """``airflow db migrate``; raises with the log's tail when it fails."""
    with log_path.open("ab") as log:
        result = subprocess.run(
            airflow_command("db", "migrate"),
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
            start_new_session=True,
        )
    if result.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed (exit {result.returncode}); see {log_path}")
