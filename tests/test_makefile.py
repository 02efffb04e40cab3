"""`make run` on a machine whose python3 is too old: a clear refusal, and once a right
Python is named, a .venv made by the old one is made again instead of failing for ever.
Stand-in Pythons (shell scripts around this one) keep it fast and offline."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def stand_in(folder: Path, version: tuple[int, int, int], *, pip_works: bool) -> Path:
    """A 'python' that answers -c with this version, makes a venv of itself and whose pip
    fails, as a real one does on a package requiring a newer Python, unless pip_works."""
    dotted = ".".join(map(str, version))
    script = folder / f"python{dotted}"
    script.write_text(
        f"""#!/bin/sh
# stand-in for Python {dotted}
if [ "$1" = "-c" ]; then
  exec "{sys.executable}" -c "import sys; sys.version_info = {version}; sys.version = '{dotted}'
$2"
fi
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && exit 0
fi
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
  {"exit 0" if pip_works else "echo 'requires a different Python' >&2; exit 1"}
fi
exit 2
"""
    )
    script.chmod(0o755)
    return script


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "pyproject.toml").write_text("")
    return tmp_path


def make_install(checkout: Path, python: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "install", f"PYTHON={python}"],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_make_install_refuses_an_old_python_before_making_a_venv(checkout, tmp_path):
    old = stand_in(tmp_path, (3, 10, 13), pip_works=False)

    result = make_install(checkout, old)

    assert result.returncode != 0
    assert "Civic311 needs Python 3.11 or newer" in result.stderr
    assert "is Python 3.10.13" in result.stderr
    assert not (checkout / ".venv").exists()


def test_make_install_makes_again_a_venv_an_old_python_made(checkout, tmp_path):
    old = stand_in(tmp_path, (3, 10, 13), pip_works=False)
    new = stand_in(tmp_path, (3, 11, 7), pip_works=True)
    (checkout / ".venv/bin").mkdir(parents=True)
    shutil.copy(old, checkout / ".venv/bin/python")  # left by a first try with Python 3.10

    result = make_install(checkout, new)

    assert result.returncode == 0, result.stderr
    assert "Python 3.11.7" in (checkout / ".venv/bin/python").read_text()
    assert (checkout / ".venv/.installed-stamp").exists()


def test_make_install_keeps_a_good_venv(checkout, tmp_path):
    new = stand_in(tmp_path, (3, 11, 7), pip_works=True)
    (checkout / ".venv/bin").mkdir(parents=True)
    shutil.copy(new, checkout / ".venv/bin/python")
    (checkout / ".venv/kept").write_text("")

    result = make_install(checkout, new)

    assert result.returncode == 0, result.stderr
    assert (checkout / ".venv/kept").exists()
