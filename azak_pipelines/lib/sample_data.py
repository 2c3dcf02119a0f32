"""Where the bundled offline dataset lives (facts plus hand-written fixtures)."""

import os
from pathlib import Path

BUNDLED = Path(__file__).resolve().parent.parent / "sample_data"


def sample_data_dir() -> Path:
    """``AZAK_SAMPLE_DATA_DIR`` when set (read at call time), else the bundled dataset."""
    override = os.environ.get("AZAK_SAMPLE_DATA_DIR", "").strip()
    return Path(override) if override else BUNDLED
