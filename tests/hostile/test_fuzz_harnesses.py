"""The atheris harnesses of fuzz/ run for a few thousand inputs each and find no crash.

A smoke run, to keep them working: a real campaign runs them for longer (``python
fuzz/envelope_fuzz.py -max_total_time=600``). Skipped where atheris is not installed.
"""

import importlib.util
import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("atheris") is None, reason="atheris is not installed"
)


@pytest.mark.parametrize("harness", ["envelope_fuzz.py", "recording_fuzz.py"])
def test_the_harness_finds_no_crash(harness, tmp_path):
    finished = subprocess.run(
        [
            sys.executable,
            str(settings.BASE_DIR / "fuzz" / harness),
            "-runs=3000",
            "-max_total_time=20",
            "-max_len=65536",
            f"-artifact_prefix={tmp_path}/",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "Done 3000 runs" in finished.stderr
