"""Part f: every page and API list of issue 23's table at volume, on a throwaway PostgreSQL.

For each size (``BENCH_SCALE_SIZES``, default 100,000 and 1,000,000 occurrences) a PostgreSQL
server is made in the run's directory (as ``.ci/with-postgres`` makes one) and a child process
(``python -m bench.scale SIZE``) migrates it, generates issue 23's data set with a fixed seed
(one project; one issue per 20 occurrences, 60% dead, 10% rage, 30% slow, 80% unresolved; an
element per 10 issues over 300 routes; a Zipf skew so a few issues are hot; a user per 11
occurrences, a replay per 5; 30 days) with COPY, the aggregates with it (summed by the product's
own ``issues.aggregates.increments_of``), ANALYZEs, then times each page through the Django test
client: one warm-up, then ``BENCH_SCALE_REPEATS`` requests (default 20), p50 and p95.

``scale_page_p95_ms`` is the worst p95 at the larger size; ``scale_growth_ratio`` that page's
p95 at the larger size over its p95 at the smaller.
"""

import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

SIZES = [int(size) for size in os.environ.get("BENCH_SCALE_SIZES", "100000,1000000").split(",")]
REPEATS = int(os.environ.get("BENCH_SCALE_REPEATS", "20"))
SEED = 23
PROJECT_ID = 42
DAYS = 30
NOW = datetime(2026, 12, 1, tzinfo=UTC)
ROUTES = 300
TYPES = [("replay_dead_click", 0.6), ("replay_rage_click", 0.1), ("replay_slow_click", 0.3)]
STATUSES = [("unresolved", 0.8), ("resolved", 0.15), ("ignored", 0.05)]
ENVIRONMENTS = ["production", "staging", "development"]
RELEASES = [f"shop@1.{n}.0" for n in range(40)]
BROWSERS = ["Chrome", "Firefox", "Safari", "Edge", "Samsung Internet", "Opera"]
OSES = ["Windows", "Mac OS X", "Linux", "iOS", "Android"]
ZIPF_S = 1.1


# --- The parent: one PostgreSQL and one child per size -------------------------------------------


def measure() -> dict[str, float]:
    results: dict[str, float] = {}
    per_size: dict[int, dict[str, dict[str, float]]] = {}
    for size in SIZES:
        with _postgres() as database_url:
            env = {**os.environ, "DATABASE_URL": database_url, "ALLOWED_HOSTS": "testserver"}
            started = time.monotonic()
            child = subprocess.run(
                [sys.executable, "-m", "bench.scale", str(size)],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if child.returncode != 0:
                raise RuntimeError(f"bench.scale {size} failed:\n{child.stderr[-4000:]}")
            figures = json.loads(child.stdout.strip().splitlines()[-1])
            print(
                f"  {size:,} occurrences: generated in {figures.pop('generate_s'):.0f} s, "
                f"all in {time.monotonic() - started:.0f} s",
                file=sys.stderr,
                flush=True,
            )
            per_size[size] = figures
    for size, pages in per_size.items():
        for page, figure in pages.items():
            results[f"scale_{size}_{page}_p50_ms"] = figure["p50"]
            results[f"scale_{size}_{page}_p95_ms"] = figure["p95"]
    smaller, larger = min(per_size), max(per_size)
    worst = max(per_size[larger], key=lambda page: per_size[larger][page]["p95"])
    results["scale_page_p95_ms"] = per_size[larger][worst]["p95"]
    results["scale_growth_ratio"] = per_size[larger][worst]["p95"] / per_size[smaller][worst]["p95"]
    results["scale_sizes"] = float(len(per_size))
    return results


class _postgres:
    """A throwaway PostgreSQL server in a directory of its own under /tmp (the run's directory
    is root's alone; the server runs as ``postgres`` when we are root), fsync off, removed on
    exit."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="replay-issues-scale-pg-"))
        self.bin = Path(sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1])

    def _run(self, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stdout}{done.stderr}")

    def __enter__(self) -> str:
        import socket

        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        data = self.directory / "data"
        self._run(str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust")
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(self.directory / "server.log"),
            "-o",
            f"-c listen_addresses=127.0.0.1 -p {port} -k {self.directory} -c fsync=off",
            "-w",
            "start",
        )
        return f"postgres://postgres@127.0.0.1:{port}/postgres"

    def __exit__(self, *exc: object) -> None:
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate", "stop"
        )
        shutil.rmtree(self.directory, ignore_errors=True)


# --- The child: generate, then time --------------------------------------------------------------


def _weighted(rng: random.Random, choices: list[tuple[str, float]]) -> str:
    return rng.choices([value for value, _ in choices], [weight for _, weight in choices])[0]


def generate(size: int) -> dict[str, int]:
    """Issue 23's data set at ``size`` occurrences; returns the ids of the pages to time."""
    from django.db import connection

    from issues.aggregates import (
        WEEK_COLUMNS,
        Counted,
        element_weeks_of,
        increments_of,
        occurrence_values,
    )
    from issues.models import (
        ElementCount,
        ElementDayCount,
        ElementWeekCount,
        Issue,
        IssueDayCount,
        IssueUser,
        IssueValueCount,
        Occurrence,
        ProjectFilterValue,
        ProjectStatusCount,
    )
    from replays.models import Replay

    rng = random.Random(SEED)
    issues_n = max(size // 20, 10)
    routes = [f"/shop/section-{n}/:id" if n % 3 else f"/page-{n}" for n in range(ROUTES)]
    selectors = [f"body > main > button#action-{n}.btn" for n in range(max(issues_n // 10, 5))]
    replays = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(max(size // 5, 1))]
    users = max(size // 11, 1)
    start = NOW - timedelta(days=DAYS)

    issues = []
    for number in range(issues_n):
        issue_type = _weighted(rng, TYPES)
        route = rng.choice(routes)
        selector = rng.choice(selectors)
        issues.append(
            {
                "project_id": PROJECT_ID,
                "fingerprint_hash": f"{number:032x}",
                "fingerprint": [issue_type, selector, route],
                "type": issue_type,
                "title": issue_type.removeprefix("replay_").replace("_", " ").title(),
                "subtitle": selector,
                "culprit": route,
                "selector": selector,
                "metadata": {"selector": selector, "url": route, "route": route},
                "status": _weighted(rng, STATUSES),
                "short_number": number + 1,
                "times_seen": 0,
                "users_seen": 0,
                "first_seen": None,
                "last_seen": None,
                "is_visible": True,
                "created_at": start,
            }
        )
    # Zipf: the issue of rank r gets occurrences in proportion to 1 / r^s.
    weights = [1 / (rank**ZIPF_S) for rank in range(1, issues_n + 1)]
    picks = rng.choices(range(issues_n), weights=weights, k=size)
    # Every issue has at least one occurrence.
    picks[:issues_n] = range(issues_n)

    occurrences, counted, seen_users, counted_issues = [], [], set(), set()
    for position, index in enumerate(picks):
        issue = issues[index]
        new_issue = index not in counted_issues
        counted_issues.add(index)
        timestamp = start + timedelta(seconds=rng.random() * DAYS * 86400)
        user = f"u-{rng.randrange(users)}"
        new_user = (index, user) not in seen_users
        if new_user:
            seen_users.add((index, user))
            issue["users_seen"] += 1
        issue["times_seen"] += 1
        if issue["first_seen"] is None or timestamp < issue["first_seen"]:
            issue["first_seen"] = timestamp
        if issue["last_seen"] is None or timestamp > issue["last_seen"]:
            issue["last_seen"] = timestamp
        route = issue["culprit"]
        values = {
            "environment": rng.choices(ENVIRONMENTS, [8, 1.5, 0.5])[0],
            "release": RELEASES[min(int((timestamp - start).days * len(RELEASES) / DAYS), 39)],
            "browser": rng.choices(BROWSERS, [60, 12, 15, 8, 3, 2])[0],
            "os": rng.choice(OSES),
            "url": "https://shop.example.com" + route.replace(":id", str(rng.randrange(10_000))),
        }
        occurrences.append(
            {
                "occurrence_id": f"{position:032x}",
                "issue_id": index + 1,
                "project_id": PROJECT_ID,
                "event_id": f"{position:032x}",
                "replay_id": rng.choice(replays),
                "segment_id": rng.randrange(20),
                "timestamp": timestamp,
                "received_at": timestamp,
                "user_key": user,
                "user_id": user,
                "evidence": {"route": route, "timeAfterClickMs": 7000, "endReason": "timeout"},
                **values,
            }
        )
        counted.append(
            Counted(
                PROJECT_ID,
                index + 1,
                timestamp,
                new_user,
                occurrence_values(
                    values["url"],
                    route,
                    values["browser"],
                    values["os"],
                    values["release"],
                    values["environment"],
                ),
                issue["selector"],
                issue["type"],
                new_issue,
            )
        )
    increments = increments_of(counted)
    statuses: dict[str, int] = {}
    for issue in issues:
        statuses[issue["status"]] = statuses.get(issue["status"], 0) + 1
        if issue["status"] == "resolved":
            issue["resolved_at"] = issue["last_seen"] + timedelta(minutes=1)

    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE ingest_project SET issue_counter = {issues_n} WHERE id = {PROJECT_ID}"
        )
    _copy(Issue, issues)
    _copy(Replay, ({"project_id": PROJECT_ID, "replay_id": r, "created_at": NOW} for r in replays))
    _copy(Occurrence, occurrences)
    _copy(
        IssueUser,
        ({"issue_id": i + 1, "user_key": u, "first_seen": start} for i, u in seen_users),
    )
    _copy(
        IssueDayCount,
        (
            {"issue_id": i, "day": day, "times": n, "new_users": increments.new_users[(i, day)]}
            for (i, day), n in increments.times.items()
        ),
    )
    _copy(
        IssueValueCount,
        (
            {"issue_id": i, "field": f, "value": v, "times": n}
            for (i, f, v), n in increments.values.items()
        ),
    )
    _copy(
        ProjectFilterValue,
        (
            {
                "project_id": p,
                "field": f,
                "value": v,
                "last_seen": seen,
                "first_seen": increments.filters_first[(p, f, v)],
            }
            for (p, f, v), seen in increments.filters.items()
        ),
    )
    _copy(
        ElementCount,
        (
            {
                "project_id": p,
                "selector": selector,
                "type": kind,
                "times": n,
                "issues": increments.element_issues[(p, selector, kind)],
                "last_seen": increments.element_seen[(p, selector, kind)],
            }
            for (p, selector, kind), n in increments.element_times.items()
        ),
    )
    _copy(
        ElementDayCount,
        (
            {"project_id": p, "day": day, "selector": selector, "type": kind, "times": n}
            for (p, day, selector, kind), n in increments.element_days.items()
        ),
    )
    _copy(
        ElementWeekCount,
        (
            {"project_id": p, "week": week, "selector": selector}
            | dict(zip((*WEEK_COLUMNS, "total"), clicks, strict=True))
            for (p, week, selector), clicks in element_weeks_of(increments.element_days).items()
        ),
    )
    _copy(
        ProjectStatusCount,
        ({"project_id": PROJECT_ID, "status": s, "issues": n} for s, n in statuses.items()),
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # SQLite too: its planner then knows the indexes' sizes
    hot = 1  # rank 1 of the Zipf skew
    hundred = min(range(issues_n), key=lambda i: abs(issues[i]["times_seen"] - 100)) + 1
    return {
        "hot": hot,
        "hundred": hundred,
        "hot_times": issues[0]["times_seen"],
        # The page after row 25,000 (page 1,000 of 25 is issue 23's), or the last full page of a
        # smaller set: the list shows unresolved issues, the API every status.
        "list_row": max(1, min(25_000, statuses.get("unresolved", 0) - 25)),
        "api_row": max(1, min(25_000, issues_n - 25)),
    }


def _copy(model, rows) -> None:
    """COPY ``rows`` (dicts by field name; the model's defaults for the others) into ``model``'s
    table (on SQLite, one INSERT run for every row: ``BENCH_SCALE_DATABASE`` below)."""
    from django.db import connection

    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    table = connection.ops.quote_name(model._meta.db_table)

    def values_of(row: dict) -> list:
        values = []
        for field in fields:
            value = row.get(field.attname, row.get(field.name))
            if value is None and not field.null:
                value = field.get_default()
            if isinstance(value, dict | list):
                value = json.dumps(value)
            elif connection.vendor == "sqlite" and value is not None:
                value = field.get_db_prep_save(value, connection)
            values.append(value)
        return values

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",
                (values_of(row) for row in rows),
            )
            return
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(values_of(row))


def _timed(client, url: str) -> dict[str, float]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content[:500])
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return {
        "p50": statistics.median(times),
        "p95": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
    }


def pages(ids: dict[str, int]) -> dict[str, str]:
    """Issue 23's table: the path of each page and API list."""
    from rest_framework.pagination import Cursor
    from rest_framework.test import APIRequestFactory

    from issues.api.pagination import OccurrenceCursorPagination
    from issues.cursors import cursor_of
    from issues.filters import SORTS
    from issues.models import Issue, Occurrence
    from issues.queries import occurrence_cursor

    hot = ids["hot"]
    # Page 3,961 of 20 (or the hot issue's deepest page at the smaller size): its first row.
    depth = min(3960 * 20, ids["hot_times"] - 1)
    deep = Occurrence.objects.filter(issue_id=hot).order_by("-timestamp", "-id")[depth]
    pagination = OccurrenceCursorPagination()
    pagination.base_url = f"/api/0/issues/{hot}/occurrences/"
    pagination.request = APIRequestFactory().get(pagination.base_url)
    api_cursor = pagination.encode_cursor(Cursor(0, False, str(deep.timestamp)))
    # The issue lists after their 25,000th issue (the default sort), by cursor as a client walks.
    issues = Issue.objects.filter(project_id=PROJECT_ID, is_visible=True).order_by(
        *SORTS["last_seen"]
    )
    list_row = issues.filter(status="unresolved")[ids["list_row"] - 1]
    list_cursor = cursor_of(list_row, "last_seen", SORTS["last_seen"])
    api_cursor_issues = cursor_of(issues[ids["api_row"] - 1], "last_seen", SORTS["last_seen"])
    return {
        "issue_list": f"/projects/{PROJECT_ID}/issues/",
        "issue_list_times_seen": f"/projects/{PROJECT_ID}/issues/?sort=times_seen",
        "issue_list_first_seen": f"/projects/{PROJECT_ID}/issues/?sort=first_seen",
        "issue_list_environment": f"/projects/{PROJECT_ID}/issues/?environment=staging",
        "issue_list_search": f"/projects/{PROJECT_ID}/issues/?query=action-7",
        "issue_list_row_25000_cursor": f"/projects/{PROJECT_ID}/issues/?cursor={list_cursor}",
        "hot_issue": f"/issues/{hot}/",
        "hot_issue_deep_occurrences": f"/issues/{hot}/?cursor={occurrence_cursor(deep)}",
        "issue_100": f"/issues/{ids['hundred']}/",
        "elements": f"/projects/{PROJECT_ID}/elements/",
        "elements_last_seen": f"/projects/{PROJECT_ID}/elements/?sort=last_seen",
        "elements_7d": f"/projects/{PROJECT_ID}/elements/?period=7d",
        "elements_30d_dead": f"/projects/{PROJECT_ID}/elements/?period=30d&sort=dead",
        "api_issue_list": f"/api/0/projects/{PROJECT_ID}/issues/",
        "api_issue_list_times_seen": f"/api/0/projects/{PROJECT_ID}/issues/?sort=times_seen",
        "api_issue_list_row_25000_cursor": (
            f"/api/0/projects/{PROJECT_ID}/issues/?cursor={api_cursor_issues}"
        ),
        "api_hot_occurrences": f"/api/0/issues/{hot}/occurrences/",
        "api_hot_occurrences_deep": api_cursor,
    }


def child(size: int) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", interactive=False, verbosity=0)
    call_command(
        "createproject",
        id=PROJECT_ID,
        name="shop",
        public_key="a" * 32,
        stdout=io.StringIO(),
    )
    started = time.monotonic()
    ids = generate(size)
    generate_s = time.monotonic() - started
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("bench", "b@example.com", "x"))
    figures: dict[str, object] = {name: _timed(client, url) for name, url in pages(ids).items()}
    figures["generate_s"] = generate_s
    print(json.dumps(figures))


if __name__ == "__main__":
    child(int(sys.argv[1]))
