"""Test session setup shared by every test module.

Airflow reads its configuration at import time, so the environment is prepared here, before any
test module imports Airflow: a throwaway AIRFLOW_HOME with a SQLite database, no example DAGs.
Fixtures live in ``tests/fixtures/`` and are loaded as plugins.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="heywatch-airflow-home-"))
atexit.register(shutil.rmtree, _AIRFLOW_HOME, ignore_errors=True)
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).resolve().parent.parent / "dags")
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}"
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")

SAMPLES_DIR = Path(__file__).resolve().parent / "fixtures" / "samples"

pytest_plugins = [
    "fixtures.servers",
    "fixtures.airflow_env",
]
