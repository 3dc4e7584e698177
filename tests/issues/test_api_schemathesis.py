"""schemathesis against the live API with a member's token: every check, every phase (examples,
coverage, fuzzing, stateful), a bounded number of examples per operation and a fixed seed, so a
run is reproducible and takes well under a minute. Any finding fails the suite: the schema at
/api/schema/ is what a client generated from it may rely on.

One refusal of schema-valid data is the API's by design: an alert rule whose webhook or Slack URL
names an IP address the worker would refuse (unspecified, multicast, metadata; private ones unless
``ALERTS_ALLOW_PRIVATE_ADDRESSES``) is answered 400 when saved. That policy on addresses is not
something a URL pattern can spell, so for the rule's two writes (and only them) a 400 is an expected
answer to schema-valid data; tests/alerts/test_api.py tests those refusals one by one."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

from tests.issues.builders import store_fixture_replay

pytestmark = pytest.mark.django_db(transaction=True)

SEED = 22
CONFIG = """
[[operations]]
include-path-regex = "/alert-rules/"
include-method = ["POST", "PATCH"]
[operations.checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", 400, 401, 403, 404, 409, 429, "5xx"]
"""
EXAMPLES_PER_OPERATION = 25


def schemathesis_cli() -> str:
    beside_python = Path(sys.executable).with_name("st")
    return str(beside_python) if beside_python.exists() else shutil.which("st") or "st"


@pytest.mark.timeout(300)
def test_schemathesis_finds_nothing(live_server, sdk_project, django_user_model, tmp_path):
    store_fixture_replay(sdk_project.project_id)
    member = django_user_model.objects.create_user("schemathesis", password="not-a-secret")
    sdk_project.project.org.members.add(member)
    token = Token.objects.create(user=member)
    (tmp_path / "schemathesis.toml").write_text(CONFIG)

    done = subprocess.run(
        [
            schemathesis_cli(),
            "run",
            f"{live_server.url}/api/schema/",
            "--checks=all",
            f"--max-examples={EXAMPLES_PER_OPERATION}",
            f"--seed={SEED}",
            "--workers=1",
            "--generation-database=none",
            "--request-timeout=20",
            f"--header=Authorization: Token {token.key}",
            "--no-color",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=280,
    )
    print(done.stdout[-6000:])
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-4000:]
