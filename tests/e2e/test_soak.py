"""The soak (``make soak``, bench/soak.py) with a small count: envelopes through the whole embedded
stack (devstack), every accepted segment processed once, no process growing. On the test run's
database engine: a fresh SQLite file, or a fresh database on the PostgreSQL server of CI's second
pass."""

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from django.db import connection

from bench.soak import soak

ENVELOPES = int(os.environ.get("SOAK_TEST_ENVELOPES", "3000"))


@pytest.fixture
def soak_database_url() -> Iterator[str | None]:
    if connection.vendor != "postgresql":
        yield None  # a new SQLite file in the soak's directory
        return
    params = connection.get_connection_params()
    name = f"soak_{uuid.uuid4().hex[:8]}"
    server = {key: params[key] for key in ("host", "port", "user") if params.get(key)}
    with psycopg.connect(**server, dbname="postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    password = f":{params['password']}" if params.get("password") else ""
    yield f"postgres://{server['user']}{password}@{server['host']}:{server['port']}/{name}"
    with psycopg.connect(**server, dbname="postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_soak_processes_every_accepted_segment_once(tmp_path, soak_database_url):
    result = soak(ENVELOPES, tmp_path, soak_database_url)
    print(result.table())
    assert not result.failures, result.table()
    assert result.counts["segments"] == ENVELOPES
