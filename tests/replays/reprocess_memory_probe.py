"""Reprocess a project's stored segments (a dry run) in a process of its own and print the
memory it cost.

``python -m tests.replays.reprocess_memory_probe <project_id>`` prints one JSON line: the segments
read and the peak resident memory above what the process held once Django was set up, in bytes.
The database and the recordings storage are those of the environment (``DATABASE_URL``,
``RECORDINGS_ROOT``), as for ``manage.py``.
"""

import json
import os
import sys
from pathlib import Path

import django


def resident_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.base")
    django.setup()
    from django.conf import settings

    from replays.queries import load_detection_settings
    from replays.reprocessing import reprocess

    project_id = int(sys.argv[1])
    detection_settings = load_detection_settings(project_id)
    Path("/proc/self/clear_refs").write_text("5")
    before = resident_bytes("VmRSS")
    summary = reprocess(
        project_id,
        detection_settings,
        max_inflated_bytes=settings.REPLAYS_MAX_RECORDING_INFLATED_BYTES,
    )
    peak = resident_bytes("VmHWM")
    print(json.dumps({"segments": summary.segments, "peak_above_setup": peak - before}))


if __name__ == "__main__":
    main()
