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


@pytest.mark.parametrize("slices", ["5", "1"])
def test_bench_ignores_database_url_and_uses_only_bench_database_url(bench, monkeypatch, slices):
    """Sliced (the default) through the rounds of bench/paired.py, or with --slices 1 in one
    child that loads each scenario in one go: either way only the bench's own database."""
    import paired  # bench/, on the path since the fixture

    calls, sliced = [], []
    monkeypatch.setattr(bench.subprocess, "call", lambda cmd, env, cwd: calls.append(env) or 0)
    monkeypatch.setattr(paired, "compare", lambda *given: sliced.append(given) or 1)
    monkeypatch.setattr(bench, "create_database", lambda url: pytest.fail("no PostgreSQL"))
    monkeypatch.setattr(bench.sys, "argv", ["open311.py", "--slices", slices])
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/civic311_live")
    monkeypatch.delenv("BENCH_DATABASE_URL", raising=False)

    with pytest.raises(SystemExit) as exited:
        bench.main()

    assert exited.value.code == 0
    if slices == "1":
        assert sliced == []
    else:
        [(served, _runs, _seconds, parts)] = sliced
        assert parts == 5
        calls = [env for _command, env in served]
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
    each created when missing and handed to the paired comparison (SQLite alone)."""
    import paired  # bench/, on the path since the fixture

    created, compared = [], []
    monkeypatch.setattr(bench, "create_database", created.append)
    monkeypatch.setattr(paired, "compare", lambda *given: compared.append(given) or 1)
    monkeypatch.setattr(bench.subprocess, "call", lambda *a, **k: pytest.fail("all sliced"))
    big = "postgres://postgres@127.0.0.1:5432/bench_big"
    small = "postgres://postgres@127.0.0.1:5432/bench_small"
    monkeypatch.setenv("BENCH_DATABASE_URL", big)
    argv = ["open311.py", "--million", "--runs", "3", "--beside", small, "--beside-count", "5000"]
    monkeypatch.setattr(bench.sys, "argv", argv)

    with pytest.raises(SystemExit) as exited:
        bench.main()

    assert exited.value.code == 0
    assert created == [big, small]
    [(alone, *_), (pairs, runs, seconds, slices)] = compared
    assert [env["DATABASE_URL"] for _command, env in alone] == [
        f"sqlite:///{bench.RESULTS}/bench.sqlite3"
    ]
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


def test_bench_spreads_every_scenarios_slices_over_the_run(bench, monkeypatch, capsys):
    """A run goes round every reading scenario once per slice, then round the writing ones
    (no list reads the POSTs' reports in the run); with two databases each slice is taken by
    both, which goes first changing from slice to slice; each figure is the median of its
    slices' p50s."""
    import paired  # bench/, on the path since the fixture

    asked: list[tuple[str, str]] = []

    class FakeChild:
        def __init__(self, command, env):
            self.name = env["DATABASE_URL"]
            self.title = f"db {self.name}"
            self.labels = ["minimal", "list", "POST", "page 50"]
            self.writes = [False, False, True, False]
            self.slice = {}

        def ask(self, command):
            asked.append((self.name, command))
            if command.startswith("measure"):
                index = int(command.split()[1])
                seen = self.slice[index] = self.slice.get(index, 0) + 1
                # Slice 2 of each scenario is slow: the median leaves it out.
                p50 = (index + 1) * (50.0 if seen == 2 else 1.0)
                return {"label": self.labels[index], "p50": p50, "p99": p50, "requests": 10,
                        "bad": 0, "cpu": 0.5}  # fmt: skip
            return {}

        def stop(self):
            return 0

    monkeypatch.setattr(paired, "Child", FakeChild)
    served = [(["big"], {"DATABASE_URL": "A"}), (["small"], {"DATABASE_URL": "B"})]

    assert paired.compare(served, runs=1, seconds=3.0, slices=3)

    measured = [(name, command) for name, command in asked if command.startswith("measure")]

    def ab(index: int) -> list[tuple[str, str]]:  # A's slice, then B's
        return [("A", f"measure {index} 1.0"), ("B", f"measure {index} 1.0")]

    def ba(index: int) -> list[tuple[str, str]]:
        return ab(index)[::-1]

    reading = [*ab(0), *ab(1), *ab(3), *ba(0), *ba(1), *ba(3), *ab(0), *ab(1), *ab(3)]
    assert measured == [*reading, *ab(2), *ba(2), *ab(2)]
    out = capsys.readouterr().out
    assert "  page 50: p50 4.00 / 4.00 ms (1.00)" in out
    assert "  list: p50 2.00 / 2.00 ms (1.00)" in out
    assert "db A ÷ db B" in out


def served_alone(monkeypatch, labels: list[str], writes: list[bool]) -> list[str]:
    """bench/paired.py's child replaced by one database whose every slice takes 1 ms (p50);
    the list of the commands it is given."""
    import paired  # bench/, on the path since the `bench` fixture

    asked: list[str] = []

    class FakeChild:
        title = "db A"

        def __init__(self, command, env):
            self.labels, self.writes = labels, writes

        def ask(self, command):
            asked.append(command)
            index = int(command.split()[1])
            return {"label": labels[index], "p50": 1.0, "p99": 2.0, "requests": 5, "bad": 0,
                    "cpu": 0.5}  # fmt: skip

        def stop(self):
            return 0

    monkeypatch.setattr(paired, "Child", FakeChild)
    return asked


def test_bench_alone_is_sliced_over_the_run_too(bench, monkeypatch, capsys):
    """One database (SQLite, or PostgreSQL without --beside): the same rounds, no ratios."""
    import paired  # bench/, on the path since the fixture

    asked = served_alone(monkeypatch, ["minimal", "POST", "list"], [False, True, False])

    assert paired.compare([(["alone"], {})], runs=1, seconds=5.0, slices=2)

    assert asked == [
        "measure 0 2.5", "measure 2 2.5", "measure 0 2.5", "measure 2 2.5",
        "measure 1 2.5", "measure 1 2.5",
    ]  # fmt: skip
    out = capsys.readouterr().out
    assert "  list: p50 1.00 ms\n" in out
    assert "÷" not in out


def test_bench_without_writing_scenarios_goes_round_the_reading_ones_only(
    bench, monkeypatch, capsys
):
    """--only "page 50": no POST among the scenarios, and no empty round of writing ones."""
    import paired  # bench/, on the path since the fixture

    asked = served_alone(monkeypatch, ["minimal", "page 50"], [False, False])

    assert paired.compare([(["alone"], {})], runs=1, seconds=2.0, slices=2)

    assert asked == ["measure 0 1.0", "measure 1 1.0"] * 2
    out = capsys.readouterr().out
    assert "reading, round 2 of 2" in out
    assert "writing" not in out
