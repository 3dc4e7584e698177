"""The embedded recordings storage: Django's file system storage with a one-call write."""

import stat

import pytest
from django.core.files.base import ContentFile

from replays.storage import RecordingFileStorage


@pytest.fixture
def storage(tmp_path) -> RecordingFileStorage:
    return RecordingFileStorage(location=tmp_path, allow_overwrite=True)


def test_a_recording_is_written_under_new_directories_and_read_back(storage, tmp_path):
    body = bytes(range(256)) * 1000
    assert storage.save("42/abc/0.rrweb.zlib", ContentFile(body)) == "42/abc/0.rrweb.zlib"
    assert (tmp_path / "42" / "abc" / "0.rrweb.zlib").read_bytes() == body
    with storage.open("42/abc/0.rrweb.zlib", "rb") as stored:
        assert stored.read() == body


def test_writing_again_overwrites_in_place(storage):
    storage.save("42/abc/1.rrweb.zlib", ContentFile(b"a longer first version"))
    assert storage.save("42/abc/1.rrweb.zlib", ContentFile(b"short")) == "42/abc/1.rrweb.zlib"
    with storage.open("42/abc/1.rrweb.zlib", "rb") as stored:
        assert stored.read() == b"short"
    assert storage.listdir("42/abc") == ([], ["1.rrweb.zlib"])


def test_the_file_permissions_setting_applies(tmp_path):
    storage = RecordingFileStorage(location=tmp_path, file_permissions_mode=0o640)
    storage.save("x/0.rrweb.zlib", ContentFile(b"z"))
    assert stat.S_IMODE((tmp_path / "x" / "0.rrweb.zlib").stat().st_mode) == 0o640


def test_a_path_that_cannot_be_a_directory_is_an_os_error(tmp_path):
    (tmp_path / "a-file").write_text("not a directory")
    storage = RecordingFileStorage(location=tmp_path / "a-file")
    with pytest.raises(NotADirectoryError):
        storage.save("42/abc/0.rrweb.zlib", ContentFile(b"z"))
