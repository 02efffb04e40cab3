"""The WSGI module: what it loads is frozen out of the garbage collector's reach."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, json, sys
import civic311.wsgi
print(json.dumps({
    "frozen": gc.get_freeze_count(),
    "oldest": len(gc.get_objects(generation=2)),
    "views": "reports.api.views" in sys.modules and "reports.admin" in sys.modules,
}))
"""


def test_the_wsgi_module_loads_the_views_then_freezes_what_it_loaded():
    # In a process of its own, as a WSGI server loads it: the URL patterns' views are
    # imported before the freeze, and a full collection then has almost nothing to walk.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["views"]
    assert loaded["frozen"] > 50_000
    assert loaded["oldest"] < loaded["frozen"] / 100
