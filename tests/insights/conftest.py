from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_figure_cache(settings, tmp_path) -> None:
    """Figures are cached per filters in production; each test computes its own. The dump
    goes to the test's own folder."""
    settings.INSIGHTS_CACHE_SECONDS = 0
    settings.OPEN_DATA_ROOT = tmp_path / "open-data"
