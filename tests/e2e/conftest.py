"""The end-to-end tests' devstack: started as a user starts it, stopped after the test."""

import pytest

from tests.devstack import running_devstack


@pytest.fixture
def devstack(tmp_path):
    with running_devstack(tmp_path) as stack:
        assert stack.process.poll() is None, stack.banner
        yield stack
