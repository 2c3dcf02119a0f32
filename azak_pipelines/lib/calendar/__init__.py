"""The KRX trading calendar: trading days, session hours, closures (no Dagster)."""
