"""Linking articles to listed companies: the linker and its seed tables (no Dagster)."""
