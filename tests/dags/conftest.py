"""The example DAGs and the demo live outside the package: make both importable for these tests.

Airflow puts the DAG folder on ``sys.path`` when it parses DAGs (their shared module
``heywatch_delivery`` relies on it); the repository root makes the ``demo`` package importable.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO_ROOT / "dags"

for path in (DAGS_FOLDER, REPO_ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
