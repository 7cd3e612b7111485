"""Fixtures of the emulator tests."""

from __future__ import annotations

import pytest
from emulator_helpers import Api


@pytest.fixture
def api(emulator) -> Api:
    """An authenticated client of the (reset) session emulator."""
    return Api(emulator.base_url, emulator.auth)
