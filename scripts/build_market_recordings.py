"""Write the generated replay recordings of KIS's rankings and sector indices
(``azak_pipelines/lib/kis/generated.py`` says what they are) into ``sample_data/kis``.

    python scripts/build_market_recordings.py
"""

from pathlib import Path

from azak_pipelines.lib.kis.generated import write_generated
from azak_pipelines.lib.kis.sectors import read_sector_mapping

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    sectors = read_sector_mapping(ROOT / "dbt_project" / "seeds")
    written = write_generated(ROOT / "azak_pipelines" / "sample_data" / "kis", sectors)
    print(f"{len(written)} recordings written")


if __name__ == "__main__":
    main()
