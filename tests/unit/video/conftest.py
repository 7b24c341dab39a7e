from __future__ import annotations

import pytest

from tests.ts_media import encode


@pytest.fixture(scope="session")
def clean_ts(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """4 s of real CBR MPEG-TS at 2 Mb/s (encoded once per session, ~0.3 s of CPU)."""
    return encode(tmp_path_factory.mktemp("ts") / "clean.ts").read_bytes()
