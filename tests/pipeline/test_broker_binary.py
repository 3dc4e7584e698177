"""Where the embedded broker's executable comes from: never the home directory."""

import os
import sys
from pathlib import Path

from pipeline.broker import broker_binary, copy_executable


def test_the_bundled_broker_runs_where_pip_installed_it(monkeypatch, tmp_path):
    monkeypatch.delenv("CALF_TANSU_BIN", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    binary = Path(broker_binary(tmp_path / "bin"))
    assert binary.is_relative_to(sys.prefix)  # inside .venv, which make clean removes
    assert os.access(binary, os.X_OK)
    assert not (tmp_path / "bin").exists()
    assert not (tmp_path / "home").exists()


def test_calf_tansu_bin_still_picks_another_broker(monkeypatch, tmp_path):
    other = tmp_path / "tansu"
    other.write_bytes(b"#!/bin/sh\n")
    other.chmod(0o755)
    monkeypatch.setenv("CALF_TANSU_BIN", str(other))
    assert broker_binary(tmp_path / "bin") == str(other)


def test_a_binary_that_cannot_run_in_place_is_copied_once_into_the_given_directory(tmp_path):
    source = tmp_path / "tansu"
    source.write_bytes(b"\x7fELF not really")
    source.chmod(0o644)
    destination = tmp_path / "var" / "bin" / "tansu-v1"
    assert copy_executable(source, destination) == destination
    assert destination.read_bytes() == source.read_bytes()
    assert os.access(destination, os.X_OK)
    written = destination.stat().st_mtime_ns
    copy_executable(source, destination)
    assert destination.stat().st_mtime_ns == written
    assert sorted(p.name for p in destination.parent.iterdir()) == ["tansu-v1"]
