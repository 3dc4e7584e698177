"""Which tests' outcome depends on the engines (the database, the broker), so that CI's second pass
(PostgreSQL and Apache Kafka, ``TEST_ENGINE_DEPENDENT_ONLY=1``) runs those and leaves the pure ones
to the first pass, which runs everything.

Decided per test from what it asks for, not from a list of files: a list rots when a test gains a
database fixture, this does not. When in doubt a test counts as engine-dependent: running it twice
costs time, skipping it on PostgreSQL or Apache Kafka would lose coverage."""

import os
from collections.abc import Iterable, Mapping

import pytest
from django import db

ENV_VAR = "TEST_ENGINE_DEPENDENT_ONLY"
COUNTS_KEY = pytest.StashKey[dict[str, int]]()

# pytest-django's database fixtures (``live_server`` serves from the test database) and the
# session's broker (every topic fixture and ``sdk_project`` and the like request one of these;
# ``requested_fixtures`` walks the whole closure of what a test requests).
ENGINE_FIXTURES = frozenset(
    {
        "db",
        "transactional_db",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
        "django_db_setup",
        "django_db_blocker",
        "live_server",
        "kafka_broker",
    }
)

# Modules that read the engine (``TEST_KAFKA``) or the test database's address for brokers and
# processes of a test's own: a test module that imports from them may start one without any of
# the fixtures above (tests/ingest/test_broker_outage.py's ``own_broker``, say).
ENGINE_MODULES = frozenset({"tests.brokers", "tests.consumer_processes"})

# And a test module that holds Django's connection may read the engine's settings (or open the
# database) without a database fixture: tests/e2e/test_soak.py gives the soak a PostgreSQL
# database of its own in the second pass, say.
ENGINE_OBJECTS = (db, db.connection, db.connections)


def wanted() -> bool:
    """Whether this run keeps only the engine-dependent tests."""
    return os.environ.get(ENV_VAR, "").strip().lower() not in ("", "0", "false", "no")


def depends_on_engines(
    fixturenames: Iterable[str], marker_names: Iterable[str], module_globals: Mapping[str, object]
) -> bool:
    """Whether a test with these fixtures (the closure), markers and module namespace touches the
    database or the broker, directly or through a process or broker of its own."""
    if ENGINE_FIXTURES.intersection(fixturenames) or "django_db" in set(marker_names):
        return True
    return any(
        any(value is engine_object for engine_object in ENGINE_OBJECTS)
        or getattr(value, "__module__", None) in ENGINE_MODULES
        or getattr(value, "__name__", None) in ENGINE_MODULES
        for value in module_globals.values()
    )


def requested_fixtures(item: pytest.Item) -> set[str]:
    """The fixtures ``item`` requests and what they request in turn, except through
    pytest-django's private autouse helpers: those are in every test's ``fixturenames`` and reach
    ``django_db_blocker`` (which a test may request to open the database itself), but they request
    the database only for a ``django_db`` marker or a ``live_server``, which are looked at too."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return set(getattr(item, "fixturenames", ()))
    seen: set[str] = set()
    pending = list(info.initialnames)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        definitions = info.name2fixturedefs.get(name)
        if not definitions:
            continue
        function = definitions[-1].func
        if name.startswith("_") and getattr(function, "__module__", "").startswith("pytest_django"):
            continue
        pending.extend(definitions[-1].argnames)
    return seen


def item_depends_on_engines(item: pytest.Item) -> bool:
    module = getattr(item, "module", None)
    return depends_on_engines(
        requested_fixtures(item),
        (marker.name for marker in item.iter_markers()),
        vars(module) if module is not None else {},
    )


COUNTS = "engine_dependent_counts"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the tests that do not depend on the engines (reported as deselected, like
    ``-k``'s)."""
    if not wanted():
        return
    kept, pure = [], []
    for item in items:
        (kept if item_depends_on_engines(item) else pure).append(item)
    if pure:
        config.hook.pytest_deselected(items=pure)
        items[:] = kept
    counts = {"kept": len(kept), "deselected": len(pure)}
    config.stash[COUNTS_KEY] = counts
    # Under pytest-xdist each worker collects: its counts go to the controller, which reports.
    if hasattr(config, "workeroutput"):
        config.workeroutput[COUNTS] = counts


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    counts = getattr(node, "workeroutput", {}).get(COUNTS)
    if counts is not None:
        node.config.stash[COUNTS_KEY] = counts


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    counts = config.stash.get(COUNTS_KEY, None)
    if counts is not None and not hasattr(config, "workeroutput"):
        terminalreporter.write_line(
            f"{ENV_VAR}: {counts['kept']} engine-dependent tests selected, {counts['deselected']} "
            "pure tests deselected (they run in the first pass, on SQLite and Tansu)"
        )
