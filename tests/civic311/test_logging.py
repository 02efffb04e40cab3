"""Server logging: each record is printed once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import django, logging; django.setup(); "
    "logging.getLogger('django.request').warning('probe: Not Found /nowhere')"
)


def test_a_django_log_line_prints_once_with_debug_on():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "civic311.settings", "DJANGO_DEBUG": "1"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert result.stderr.count("probe: Not Found /nowhere") == 1, result.stderr
