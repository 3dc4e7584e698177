"""The embedded stack's recordings storage: Django's file system storage, with a leaner write.

A recording is written once per segment (again only when a segment is re-delivered, with the same
bytes), by one consumer at a time, as one ``bytes`` object. Django's ``FileSystemStorage._save``
is made for uploads: a file lock, a Python file object, a stat per directory level; here that was
half of the replays consumer's time. This writes the bytes with one ``open``, ``write``, ``close``.
"""

import os

from django.core.files.base import File
from django.core.files.storage import FileSystemStorage
from django.utils.deconstruct import deconstructible


@deconstructible(path="replays.storage.RecordingFileStorage")
class RecordingFileStorage(FileSystemStorage):
    def _save(self, name: str, content: File) -> str:
        path = self.path(name)
        data = content.read()
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(path, flags, 0o666)
        except FileNotFoundError:  # the replay's first segment: its directory is new
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd = os.open(path, flags, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        if self.file_permissions_mode is not None:
            os.chmod(path, self.file_permissions_mode)
        return name
