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
def bench(monkeypatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(BENCH.parent))  # as when bench/open311.py is run
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


def test_bench_beside_serves_both_postgresql_databases_to_compare(bench, monkeypatch):
    """--beside: BENCH_DATABASE_URL at --count and the second database at --beside-count,
    each created when missing and handed to the paired comparison (SQLite still alone)."""
    import paired  # bench/, on the path since the fixture

    created, compared, alone = [], [], []
    monkeypatch.setattr(bench, "create_database", created.append)
    monkeypatch.setattr(paired, "compare", lambda *given: compared.append(given) or 1)
    monkeypatch.setattr(bench.subprocess, "call", lambda cmd, env, cwd: alone.append(env) or 0)
    big = "postgres://postgres@127.0.0.1:5432/bench_big"
    small = "postgres://postgres@127.0.0.1:5432/bench_small"
    monkeypatch.setenv("BENCH_DATABASE_URL", big)
    argv = ["open311.py", "--million", "--runs", "3", "--beside", small, "--beside-count", "5000"]
    monkeypatch.setattr(bench.sys, "argv", argv)

    with pytest.raises(SystemExit) as exited:
        bench.main()

    assert exited.value.code == 0
    assert created == [big, small]
    assert [env["DATABASE_URL"] for env in alone] == [f"sqlite:///{bench.RESULTS}/bench.sqlite3"]
    [(pairs, runs, seconds, slices)] = compared
    assert (runs, seconds, slices) == (3, 5.0, 5)
    assert [env["DATABASE_URL"] for _command, env in pairs] == [big, small]
    counts = [command[command.index("--count") + 1] for command, _env in pairs]
    assert counts == ["1000000", "5000"]


@pytest.mark.parametrize(
    "bench_url, beside",
    [
        ("", "postgres://postgres@127.0.0.1:5432/bench_small"),
        ("postgres://postgres@127.0.0.1:5432/bench_big", "sqlite:///elsewhere.sqlite3"),
        (
            "postgres://postgres@127.0.0.1:5432/bench_big",
            "postgres://postgres@127.0.0.1:5432/bench_big",
        ),
    ],
)
def test_bench_beside_refuses_what_it_cannot_compare(bench, monkeypatch, bench_url, beside):
    """Without BENCH_DATABASE_URL's PostgreSQL, with a database that is not PostgreSQL, or
    with the same database twice (both would be filled, each with its own count): an
    error before anything is created or served."""
    monkeypatch.setattr(bench, "create_database", lambda url: pytest.fail("nothing created"))
    monkeypatch.setattr(bench.subprocess, "call", lambda *a, **k: pytest.fail("nothing served"))
    monkeypatch.setenv("BENCH_DATABASE_URL", bench_url)
    monkeypatch.setattr(bench.sys, "argv", ["open311.py", "--skip-sqlite", "--beside", beside])

    with pytest.raises(SystemExit) as exited:
        bench.main()

    assert "--beside" in str(exited.value.code)
