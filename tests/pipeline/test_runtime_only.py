"""The check behind every devstack test: the dev extras cannot be imported by its processes."""

import os
import subprocess
import sys

from tests.runtime_only import blocking_env, dev_only_modules


def test_the_dev_extras_are_known_and_the_runtime_dependencies_are_not_among_them():
    blocked = dev_only_modules()
    assert {"pytest", "hypothesis", "playwright", "moto", "requests", "atheris"} <= blocked
    assert not blocked & {"django", "gunicorn", "confluent_kafka", "arroyo", "yaml", "boto3"}


def test_a_child_with_the_blocking_env_cannot_import_a_dev_extra(tmp_path):
    env = blocking_env(dict(os.environ), tmp_path)
    code = (
        "import django, gunicorn, arroyo\n"
        "try:\n    import requests\nexcept ImportError as exc:\n    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert "a dev extra: make run does not install it" in done.stdout
