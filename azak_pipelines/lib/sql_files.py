"""Named SQL beside the code that runs it: the rule lives in :mod:`azak_core.sql_files` (the API
uses it too); the pipelines keep importing it from here."""

from azak_core.sql_files import load_queries

__all__ = ["load_queries"]
