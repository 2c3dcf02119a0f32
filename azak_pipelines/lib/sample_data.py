"""Where the bundled offline dataset lives (facts plus hand-written fixtures)."""

from pathlib import Path

from azak_core import settings_registry

BUNDLED = Path(__file__).resolve().parent.parent / "sample_data"


def sample_data_dir() -> Path:
    """``AZAK_SAMPLE_DATA_DIR`` when set (read at call time), else the bundled dataset."""
    override = settings_registry.read("AZAK_SAMPLE_DATA_DIR")
    return Path(override) if override else BUNDLED
