"""Everything Dagster registers for the code location (loaded by definitions.py)."""

import warnings

import dagster as dg

# single-run backfill policies and partitioned checks are marked beta; we rely on them knowingly
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
