"""The benchmark's and the load test's command lines (what ``make bench`` and
``make loadtest`` run with no arguments, and what a user may type)."""

import argparse

import pytest

from bench.__main__ import SECTIONS, arguments
from bench.before_after import arguments as before_after_arguments
from loadtest.run import arguments as loadtest_arguments
from loadtest.run import parse_duration


def test_bench_without_sections_measures_all_of_them():
    assert arguments([]).sections == list(SECTIONS) == ["dispatch", "search", "workers", "cache",
                                                        "suggest", "streams"]
    chosen = arguments(["search", "--rounds", "5"])
    assert (chosen.sections, chosen.rounds) == (["search"], 5)


def test_bench_refuses_an_unknown_section(capsys):
    with pytest.raises(SystemExit):
        arguments(["serch"])
    assert "unknown section serch" in capsys.readouterr().err


def test_before_after_compares_without_the_response_cache_on_one_database_unless_told():
    plain = before_after_arguments(["HEAD~3"])
    assert (plain.rev, plain.response_cache, plain.earlier_database_url) == ("HEAD~3", "off", None)
    told = before_after_arguments(["5f16a71", "--earlier-database-url",
                                   "postgresql://localhost/old", "--response-cache", "on"])
    assert (told.earlier_database_url, told.response_cache) == ("postgresql://localhost/old",
                                                                "on")


def test_before_after_refuses_an_unknown_cache_setting(capsys):
    with pytest.raises(SystemExit):
        before_after_arguments(["HEAD~1", "--response-cache", "maybe"])
    assert "invalid choice: 'maybe'" in capsys.readouterr().err


@pytest.mark.parametrize(("text", "seconds"), [
    ("90", 90), ("30s", 30), ("5m", 300), ("1h30m", 5400), ("2m5s", 125)])
def test_loadtest_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5x", "m", "-3"])
def test_loadtest_refuses_a_bad_duration(text):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration(text)


def test_loadtest_runs_every_journey_and_the_import_unless_told():
    everything = loadtest_arguments([])
    assert everything.user_classes == ["ShopperUser", "EditorUser", "ApiUser"]
    assert everything.with_import
    shoppers = loadtest_arguments(["--journeys", "shopper"])  # as the load test before imports
    assert (shoppers.user_classes, shoppers.with_import) == (["ShopperUser"], False)
    assert loadtest_arguments(["--journeys", "shopper,import"]).with_import


@pytest.mark.parametrize("journeys", ["import", "shoper", ""])
def test_loadtest_refuses_journeys_without_a_user_class_or_unknown(journeys, capsys):
    with pytest.raises(SystemExit):
        loadtest_arguments(["--journeys", journeys])
    assert "--journeys takes some of shopper, editor, api, import" in capsys.readouterr().err
