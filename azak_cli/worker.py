"""`azak worker`: a Celery worker that runs the steps of runs launched with AZAK_EXECUTOR=celery.

It is dagster-celery's own worker (``celery -A dagster_celery.app worker``) on the configured
broker and queue, with this checkout's code and the runtime's environment (databases, Dagster
home, source settings), so a step sees what it would see in the launching process. Each worker
runs one step at a time in its own process (``--pool solo``); start more workers to run more.
"""

import os
import signal
import socket
import subprocess
import sys

from azak_cli.runtime.environment import Runtime
from azak_pipelines.defs.executor import celery_settings

SHUTDOWN_SECONDS = 30  # a warm shutdown lets the running step finish


def worker_command(name: str) -> list[str]:
    broker, queue = celery_settings()
    return [os.path.join(os.path.dirname(sys.executable), "celery"), "-A", "dagster_celery.app",
            "-b", broker, "worker", "-Q", queue, "-n", f"{name}@{socket.gethostname()}",
            "--include", "azak_pipelines.worker_preload", "--pool", "solo", "--prefetch-multiplier", "1",
            "--without-gossip", "--without-mingle",
            "--loglevel", "INFO"]


def run_worker(runtime: Runtime, name: str) -> int:
    """Run the worker in the foreground until it exits or this command is interrupted."""
    env = {**runtime.child_env(), "AZAK_EXECUTOR": "celery"}
    broker, queue = celery_settings()
    print(f"worker {name}: queue {queue!r} on {broker.split('@')[-1]}", flush=True)
    process = subprocess.Popen(worker_command(name), env=env)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(SHUTDOWN_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        raise
