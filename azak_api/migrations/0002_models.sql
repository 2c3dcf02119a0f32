-- The model registry: every model that predicts or reports (LLMs, the offline baseline, external
-- systems whose predictions are imported). Pipelines read it at the start of every run.
CREATE TABLE app.models (
    id bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$'),
    provider text NOT NULL CHECK (provider IN ('openai', 'openrouter', 'openai-compatible', 'baseline', 'external')),
    model text NOT NULL,
    base_url text CHECK (base_url IS NULL OR base_url ~ '^https?://'),
    kind text NOT NULL DEFAULT 'chat' CHECK (kind IN ('chat', 'reasoning')),
    structured text CHECK (structured IN ('json_schema', 'json_object', 'prompt')),
    api_key_env text CHECK (api_key_env IS NULL OR api_key_env ~ '^[A-Z_][A-Z0-9_]*$'),
    params jsonb NOT NULL DEFAULT '{}'::jsonb,
    price_in_per_m numeric(12, 6) NOT NULL DEFAULT 0 CHECK (price_in_per_m >= 0),
    price_out_per_m numeric(12, 6) NOT NULL DEFAULT 0 CHECK (price_out_per_m >= 0),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The offline baseline is always there: the demo and the tests run it, and every LLM must beat it.
INSERT INTO app.models (name, provider, model, kind, structured)
VALUES ('baseline', 'baseline', 'azak-baseline-v1', 'chat', NULL);
