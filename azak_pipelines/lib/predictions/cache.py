"""The response cache (``ops.llm_responses``): valid answers keyed by (model identity, prompt hash).

A re-run or a backfill over inputs already seen answers from here at no cost and reproducibly.
Only answers that parsed and validated are kept; failures are retried on the next run.
"""

import hashlib
from typing import Any

import psycopg

DDL = """
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.llm_responses (
    cache_key text PRIMARY KEY,
    model_identity text NOT NULL,
    prompt_hash text NOT NULL,
    response_text text NOT NULL,
    tokens_in integer NOT NULL,
    tokens_out integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE ops.llm_responses IS 'Validated model answers by (model, parameters, prompt hash)';
"""


def cache_key(model_identity: str, prompt_hash: str) -> str:
    return hashlib.sha256(f"{model_identity}\n{prompt_hash}".encode()).hexdigest()


class ResponseCache:
    def __init__(self, conn: psycopg.Connection[Any]):
        self.conn = conn
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('ops.llm_responses'))")
            conn.execute(DDL)

    def get(self, model_identity: str, prompt_hash: str) -> tuple[str, int, int] | None:
        row = self.conn.execute(
            "SELECT response_text, tokens_in, tokens_out FROM ops.llm_responses WHERE cache_key = %s",
            (cache_key(model_identity, prompt_hash),)).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def put(self, model_identity: str, prompt_hash: str, text: str, tokens_in: int, tokens_out: int) -> None:
        self.conn.execute(
            "INSERT INTO ops.llm_responses (cache_key, model_identity, prompt_hash, response_text, "
            "tokens_in, tokens_out) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (cache_key) DO NOTHING",
            (cache_key(model_identity, prompt_hash), model_identity, prompt_hash, text, tokens_in, tokens_out))
