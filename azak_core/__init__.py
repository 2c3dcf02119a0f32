"""Pure code that both the pipelines and the API need: market rules and constants, and the text
embedders (the API embeds search queries with the same embedder the pipelines used).

It imports neither Dagster nor Litestar, nor ``azak_pipelines`` / ``azak_api`` / ``azak_cli``.
"""
