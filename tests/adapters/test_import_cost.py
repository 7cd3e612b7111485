"""DAG files import the operator and sensor modules on every parse: they must stay cheap."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("aiohttp", "defusedxml", "av", "boto3", "airflow_heywatch.emulator")


@pytest.mark.parametrize(
    "module",
    [
        "airflow_heywatch.operators.download",
        "airflow_heywatch.sensors.download",
        "airflow_heywatch.triggers.download",
    ],
)
def test_module_does_not_import_heavy_libraries(module):
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        f"print(json.dumps([name for name in {HEAVY!r} if name in sys.modules]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
