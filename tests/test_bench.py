"""bench/open311.py deletes reports: it must only ever touch a database of its own."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from reports.models import ServiceRequest
from tests.factories import ServiceRequestFactory

pytestmark = pytest.mark.django_db

BENCH = Path(__file__).resolve().parent.parent / "bench" / "open311.py"


@pytest.fixture
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_open311", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_ignores_database_url_and_uses_only_bench_database_url(bench, monkeypatch):
    calls = []
    monkeypatch.setattr(bench.subprocess, "call", lambda cmd, env, cwd: calls.append(env) or 0)
    monkeypatch.setattr(bench, "create_database", lambda url: pytest.fail("no PostgreSQL"))
    monkeypatch.setattr(bench.sys, "argv", ["open311.py"])
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/civic311_live")
    monkeypatch.delenv("BENCH_DATABASE_URL", raising=False)

    with pytest.raises(SystemExit) as exited:
        bench.main()

    assert exited.value.code == 0
    assert [env["DATABASE_URL"] for env in calls] == [f"sqlite:///{bench.RESULTS}/bench.sqlite3"]


def test_bench_refuses_a_database_with_reports_not_generated(bench, capsys):
    ServiceRequestFactory(source="generated")
    bench.refuse_unless_bench_database()  # only generated reports: a bench database

    real = ServiceRequestFactory(source="web")
    with pytest.raises(SystemExit) as exited:
        bench.refuse_unless_bench_database()

    assert exited.value.code not in (0, None)
    assert "not generated" in str(exited.value.code)
    assert ServiceRequest.objects.filter(pk=real.pk).exists()
