"""places sits below every other app: it imports only Django, the standard library and
civic311, so reports (and anything else) may use it without a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import places

OTHER_APPS = {"reports", "departments", "adoptions", "accounts"}


def test_places_imports_no_other_project_app():
    root = Path(places.__file__).parent
    offending = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offending += [
                f"{path.relative_to(root)}: {n}" for n in names if n.split(".")[0] in OTHER_APPS
            ]
    assert offending == []
