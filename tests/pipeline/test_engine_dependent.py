"""CI's second pass (PostgreSQL and Apache Kafka) runs only the tests that touch the engines
(tests/engine_dependent.py): what decides it, and the selection on real test files.

These tests are pure themselves: the engine modules they hand to the rule are imported inside
them, not by this module (which would make the rule count this module as engine-dependent)."""

import os
import subprocess
import sys
import types

import pytest
from django.conf import settings

from tests.engine_dependent import ENV_VAR, depends_on_engines

PLAIN = ("request", "tmp_path", "settings", "client")


def module(**names: object) -> dict[str, object]:
    return {"__name__": "tests.example", "pytest": pytest, **names}


def test_a_test_without_database_or_broker_is_pure():
    assert not depends_on_engines(PLAIN, ["parametrize"], module())


@pytest.mark.parametrize(
    "fixture", ["db", "transactional_db", "live_server", "kafka_broker", "django_db_blocker"]
)
def test_a_database_or_broker_fixture_makes_a_test_engine_dependent(fixture):
    assert depends_on_engines((*PLAIN, fixture), [], module())


def test_the_django_db_marker_makes_a_test_engine_dependent():
    assert depends_on_engines(PLAIN, ["django_db"], module())


def test_a_module_that_starts_brokers_of_its_own_is_engine_dependent():
    from tests import brokers

    assert depends_on_engines(PLAIN, [], module(new_broker=brokers.new_broker))
    assert depends_on_engines(PLAIN, [], module(brokers=brokers))


def test_a_module_that_reads_the_database_connection_is_engine_dependent():
    from django.db import connection

    assert depends_on_engines(PLAIN, [], module(connection=connection))


def test_a_module_that_only_reads_settings_is_pure():
    assert not depends_on_engines(PLAIN, [], module(settings=settings, types=types))


def collect(*paths: str, **env: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *paths],
        cwd=settings.BASE_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()


def test_the_second_pass_deselects_the_pure_tests_of_real_files_and_says_how_many():
    paths = (
        "tests/ingest/test_admin.py",
        "tests/replays/test_detection_sampling.py",
        "tests/e2e/test_soak.py",
    )
    everything = [line for line in collect(*paths, **{ENV_VAR: ""}) if "::" in line]
    assert len(everything) == 11

    lines = collect(*paths, **{ENV_VAR: "1"})
    assert [line for line in lines if "::" in line] == [
        "tests/ingest/test_admin.py::test_project_admin_lists_and_shows_the_dsn",
        "tests/ingest/test_admin.py::test_disabling_a_key_in_the_admin",
        "tests/e2e/test_soak.py::test_a_soak_processes_every_accepted_segment_once",
    ]
    assert (
        f"{ENV_VAR}: 3 engine-dependent tests selected, 8 pure tests deselected "
        "(they run in the first pass, on SQLite and Tansu)"
    ) in lines
