"""The SQL benchmarks a user runs by hand or through ``make bench``
(``python -m bench.catalog_sql``, ``python -m bench.suggest_sql``) run to the end on a small
seeded catalog and print a line for everything they measure. Their timings are not checked
here (never a timing assertion in a test): only that the tool a user types works and reports
what it ran."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.catalog_sql import MIX as CATALOG_KINDS
from bench.suggest_sql import MIX as TYPED

from .conftest import seed_demo_products

ROOT = Path(__file__).resolve().parents[2]


def run_bench(module: str, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "VITRINE_CONFIG": "development",
           "VITRINE_LOG_LEVEL": "WARNING"}
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def small_catalog(sql):
    seed_demo_products(sql, 400)


def test_the_suggestions_benchmark_reports_every_typed_text(small_catalog, database_url):
    result = run_bench("bench.suggest_sql", database_url, "--repeat", "1")
    assert result.returncode == 0, result.stderr
    for typed in TYPED:
        assert f"{typed!r:<22}" in result.stdout
    assert "whole mix: p50" in result.stdout
    assert "plan of the slowest text" in result.stdout


def test_the_catalog_sql_benchmark_reports_every_kind(small_catalog, database_url):
    result = run_bench("bench.catalog_sql", database_url, "--repeat", "1", "--no-plans")
    assert result.returncode == 0, result.stderr
    for name, _query in CATALOG_KINDS:
        assert name in result.stdout
