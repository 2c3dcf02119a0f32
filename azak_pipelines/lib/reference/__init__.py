"""The listed universe and its dated history: master files, names, listings and delistings (no Dagster)."""
