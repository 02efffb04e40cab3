"""Every scenario's seconds sliced and spread over the whole run, on one database or on two
served at once (bench/open311.py --beside).

Why: a shared machine has spells of slowness that last seconds to a minute (on one, the
100-row list took 1.5 ms in one minute and 3.2 in the next while the minimal view stayed
at 0.29). A scenario loaded for 5 seconds in one go takes such a spell whole, and two
scenarios compared in one table (page 50 against page 1, any figure against the minimal
view) were measured minutes apart. So each scenario's --seconds are split into slices
(--slices, 5: one second each by default), and a run goes round every scenario once per
slice, the reading ones first (the minimal view among them), then the writing ones (the
POSTs, so that no list reads their reports in the run): every figure's slices are spread
over the same minutes as every other's, and each figure is the median of its slices', which
a spell moves by one slice at most. With --beside the two databases take each slice in turn,
A B or B A (which goes first changes from slice to slice and run to run): what 1,000,000
reports cost over 100,000 is measured from loads a second apart.

Each database has its own child process (`open311.py --serve`), which prepares it as
`--child` does, serves it with gunicorn and then takes one command a line on its standard
input: `measure N S` loads scenario N for S seconds and answers with its result, `between`
makes the data as at the first run's start, and the end of the input stops it. Numbers,
not tests: nothing here asserts a time.
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import subprocess
import sys
from typing import Any

import httpload
import open311

# Marks the children's answers among what else they print (passed through).
ANSWER = "@@bench "


def serve(count: int, seconds: float, only: str) -> None:
    """In a child: prepare the database, serve it, and answer the coordinator's commands."""
    scenarios, database = open311.prepare(count, only)
    from django.db import connection

    title = f"{connection.vendor}, {count:,} reports"
    try:
        with httpload.gunicorn(dict(os.environ)) as (base, master):
            labels = [scenario.label for scenario in scenarios]
            writes = [scenario.script is not None for scenario in scenarios]
            answer({"title": title, "labels": labels, "writes": writes})
            for line in sys.stdin:
                verb, _, argument = line.strip().partition(" ")
                if verb == "measure":
                    index, for_seconds = argument.split()
                    scenario = scenarios[int(index)]
                    found = scenario.measure(base, float(for_seconds), master, database)
                    answer(dataclasses.asdict(found))
                elif verb == "between":
                    open311.between_runs(base)
                    answer({})
    finally:
        open311.delete_posted()


def answer(message: dict[str, Any]) -> None:
    print(ANSWER + json.dumps(message), flush=True)


class Child:
    """A `--serve` child, from the coordinator's side."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [*command, "--serve"],
            env=env,
            cwd=open311.ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        ready = self.read()
        self.title, self.labels, self.writes = ready["title"], ready["labels"], ready["writes"]

    def read(self) -> dict[str, Any]:
        """The child's next answer; what it prints before that is passed through."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith(ANSWER):
                return dict(json.loads(line[len(ANSWER) :]))
            print(line, end="", flush=True)
        raise SystemExit(f"the bench's child stopped (exit code {self.process.wait()})")

    def ask(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.read()

    def stop(self) -> int:
        if self.process.stdin is not None:
            self.process.stdin.close()
        return self.process.wait(timeout=120)


def compare(
    commands: list[tuple[list[str], dict[str, str]]], runs: int, seconds: float, slices: int
) -> bool:
    """Serve the database (or both, the larger first) and load every scenario in `slices`
    loads of seconds / slices each (at least one second), round after round over all the
    scenarios, run after run; print each database's tables and, with two, the ratio of the
    two. True if all went well."""
    slices = max(1, slices)
    part = max(1.0, seconds / slices)
    children: list[Child] = []
    every: list[list[list[httpload.Result]]] = [[] for _ in commands]
    try:
        for command, env in commands:
            children.append(Child(command, env))
        labels, writes = children[0].labels, children[0].writes
        if any(child.labels != labels for child in children):
            raise SystemExit("the two databases do not have the same scenarios")
        reading = [index for index, write in enumerate(writes) if not write]
        writing = [index for index, write in enumerate(writes) if write]
        for number in range(1, runs + 1):
            if number > 1:
                for child in children:
                    child.ask("between")
            print(f"Run {number} of {runs}", flush=True)
            loads = [[[] for _ in labels] for _ in children]
            for kind, group in (("reading", reading), ("writing", writing)):
                for round_ in range(slices if group else 0):
                    print(f"  {kind}, round {round_ + 1} of {slices}", flush=True)
                    for index in group:
                        order = list(range(len(children)))
                        if (number + round_) % 2 == 0:
                            order.reverse()  # which database goes first, in turn
                        for which in order:
                            found = children[which].ask(f"measure {index} {part}")
                            loads[which][index].append(httpload.Result(**found))
            for which, results in enumerate(every):
                results.append([combined(sliced) for sliced in loads[which]])
            for index, label in enumerate(labels):
                p50s = [results[-1][index].p50 for results in every]
                shown = " / ".join(f"{p50:.2f}" for p50 in p50s)
                ratio = f" ({p50s[0] / (p50s[1] or 1e-9):.2f})" if len(p50s) > 1 else ""
                print(f"  {label}: p50 {shown} ms{ratio}", flush=True)
    finally:
        codes = [child.stop() for child in children]
    for child, results in zip(children, every, strict=True):
        for number, run in enumerate(results, 1):
            title = f"{child.title}, run {number} of {runs}" if runs > 1 else child.title
            open311.print_table(title, run)
        if runs > 1:
            open311.print_runs(child.title, results)
    if len(children) > 1:
        print_ratios(f"{children[0].title} ÷ {children[1].title}", every[0], every[1])
    return not any(codes)


def combined(loads: list[httpload.Result]) -> httpload.Result:
    """One result from a scenario's slices: the median of their p50s and of their p99s (a
    burst of slowness on the machine moves one slice, not the median), the requests and
    failures summed, the CPU time per request over all of them."""
    requests = sum(load.requests for load in loads)
    return httpload.Result(
        label=loads[0].label,
        p50=statistics.median(load.p50 for load in loads),
        p99=statistics.median(load.p99 for load in loads),
        requests=requests,
        bad=sum(load.bad for load in loads),
        cpu=sum(load.cpu * load.requests for load in loads) / (requests or 1),
    )


def print_ratios(title: str, larger: list[list[Any]], smaller: list[list[Any]]) -> None:
    """Each scenario's p50 on the larger database over the smaller's, run by run."""
    print(f"\n{title}: p50 over p50, each pair loaded one after the other, run by run")
    print(f"| {'scenario':32} | ratio |")
    print(f"|{'-' * 34}|---:|")
    for index, label in enumerate(result.label for result in larger[0]):
        ratios = [
            f"{big[index].p50 / (small[index].p50 or 1e-9):.2f}"
            for big, small in zip(larger, smaller, strict=True)
        ]
        print(f"| {label:32} | {' / '.join(ratios)} |")
