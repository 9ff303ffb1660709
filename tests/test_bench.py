"""The benchmark's quick mode, end to end, so that it cannot rot.

Speed is not asserted here (a busy machine would make that flaky): `python -m bench` prints the figures and
compares them with the bare relay. What is checked is that every scenario runs, the output has its shape
(a table, the targets, and one line of JSON last), and what must hold on any machine: nothing lost, every
copy of the notes identical, updates sent as binary, every missed event delivered on catch-up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        bool(os.environ.get("TEST_DATABASE_URL")),
        reason="the benchmark makes its own databases: it runs once, in the SQLite pass of the suite",
    ),
]


@pytest.fixture(scope="module")
def quick_run():
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL", "DATABASE_URL")}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout, json.loads(done.stdout.strip().splitlines()[-1])


def test_every_scenario_runs_and_the_output_has_its_shape(quick_run):
    out, figures = quick_run
    assert figures["quick"] is True
    for scenario in ("lecture", "workshop", "catchup", "scaleout", "modes", "pageweight"):
        assert scenario in figures, scenario
        assert "error" not in json.dumps(figures[scenario]), (scenario, figures[scenario])
    assert "run " in out.splitlines()[0] and "x p99" in out.splitlines()[0]  # the table's header
    assert "targets:" in out
    results = {t["target"]: t["result"] for t in figures["targets"]}
    assert set(results.values()) <= {"PASS", "FAIL"}, results  # every figure was measured


def test_what_must_hold_on_any_machine(quick_run):
    _out, figures = quick_run
    lecture = figures["lecture"]["N60_r10"]
    for server in ("relay", "baraza"):
        assert lecture[server]["lost"] == 0, lecture[server]
    assert lecture["baraza"]["failed_actions"] == 0 and lecture["baraza"]["chain_breaks"] == 0
    workshop = figures["workshop"]["baraza"]
    assert workshop["lost"] == 0 and workshop["identical"] is True and workshop["not_binary"] == 0
    assert figures["catchup"]["delivered_pct"] == 100.0
