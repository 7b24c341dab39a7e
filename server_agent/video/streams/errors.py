"""Errors of the stream service.

    StreamError
     ├── StreamNotFound     no stream with that id
     ├── StreamExists       the id is taken
     └── StreamReadOnly     defined in the config file or by the simulator: edit it there
"""

from __future__ import annotations


class StreamError(Exception):
    pass


class StreamNotFound(StreamError):
    pass


class StreamExists(StreamError):
    pass


class StreamReadOnly(StreamError):
    pass
