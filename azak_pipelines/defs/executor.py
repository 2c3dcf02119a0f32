"""How a run's steps execute: in the run's own process (the default), or on Celery workers.

``AZAK_EXECUTOR=celery`` sends every step to a Celery queue on ``AZAK_CELERY_BROKER`` (the
machine's RabbitMQ by default), where ``azak worker`` processes pick them up; results come back
over the broker (``rpc://``). Workers need the same code and the same environment as the
process that launches the run.
"""


import dagster as dg

from azak_core import settings_registry

DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672//"
DEFAULT_QUEUE = "dagster"


def celery_settings() -> tuple[str, str]:
    """The broker and queue that runs submit to and ``azak worker`` listens on."""
    broker = settings_registry.read_or("AZAK_CELERY_BROKER", DEFAULT_BROKER)
    queue = settings_registry.read_or("AZAK_CELERY_QUEUE", DEFAULT_QUEUE)
    return broker, queue


@dg.definitions
def executor() -> dg.Definitions:
    choice = settings_registry.read_or("AZAK_EXECUTOR", "in_process")
    if choice == "in_process":
        # Steps share one process: our assets are I/O bound and a process per step costs
        # seconds of imports on a 2-core machine.
        return dg.Definitions(executor=dg.in_process_executor)
    if choice == "celery":
        from dagster_celery import celery_executor

        broker, queue = celery_settings()
        return dg.Definitions(executor=celery_executor.configured({
            "broker": {"env": "AZAK_CELERY_BROKER"} if settings_registry.read("AZAK_CELERY_BROKER") else broker,
            "backend": "rpc://",
            "config_source": {"task_default_queue": queue},
        }))
    raise ValueError(f"AZAK_EXECUTOR must be in_process or celery, got {choice!r}")
