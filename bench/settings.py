"""The deployed settings, with the benchmark's no-op view added and ``var/`` moved to the run's
temporary directory (``BENCH_VAR_DIR``), so a run leaves nothing in the checkout."""

import os
from pathlib import Path

from settings.base import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
if os.environ.get("BENCH_VAR_DIR"):
    VAR_DIR = Path(os.environ["BENCH_VAR_DIR"])
