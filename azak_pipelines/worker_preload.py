"""Imported by every ``azak worker`` as it starts (``celery --include``): loading the code location
once there spares the worker's first step ten seconds or more of imports."""

from azak_pipelines.definitions import defs

defs()
