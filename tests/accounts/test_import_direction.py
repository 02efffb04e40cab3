"""accounts sits at the bottom of the import graph: the apps above contribute to it."""

from __future__ import annotations

import ast
from pathlib import Path

import accounts

ABOVE = ("reports", "departments", "adoptions")


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_accounts_imports_no_app_above_it():
    package = Path(accounts.__file__).parent
    files = sorted(package.rglob("*.py"))
    assert files
    offending = [
        f"{path.relative_to(package)}: {name}"
        for path in files
        for name in imported_modules(path)
        if name.split(".")[0] in ABOVE
    ]
    assert offending == []
