"""One module per `azak` command: ``register(subparsers)`` adds its parser, ``run(args)`` does it and
returns the exit code. Heavy modules (Dagster, the API) are imported inside ``run``, so that
`azak --help` and the light commands start quickly."""
