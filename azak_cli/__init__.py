"""The `azak` command, in layers that import downwards only (tests/test_import_boundaries.py):
``main`` registers ``commands/<command>.py``; the commands call what they do (``market``,
``evaluation``, ``models``, ``telegram``, ``match``, ``similar``, ``worker``, ``demo/``, ``dev/``),
which run jobs through ``azak_pipelines.runs`` on the ``runtime/`` (databases, Milvus, environment,
supervisor)."""
