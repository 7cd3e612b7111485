"""Helpers for the API-core tests: fixture folders and a type-exact comparison."""

from __future__ import annotations

from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SAMPLES = FIXTURES / "samples"
XML = FIXTURES / "xml"


def assert_same(actual: Any, expected: Any, where: str = "$") -> None:
    """Equal values *and* equal types (``0 == 0.0 == False`` is not enough here)."""
    assert type(actual) is type(expected), f"{where}: {actual!r} ({type(actual).__name__}) != {expected!r}"
    if isinstance(expected, dict):
        assert set(actual) == set(expected), f"{where}: keys {sorted(actual)} != {sorted(expected)}"
        for key in expected:
            assert_same(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert len(actual) == len(expected), f"{where}: {len(actual)} items != {len(expected)}"
        for index, (left, right) in enumerate(zip(actual, expected, strict=True)):
            assert_same(left, right, f"{where}[{index}]")
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"
