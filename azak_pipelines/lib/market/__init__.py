"""Market data that is not a KIS call: price files exported from other tools (no Dagster)."""
