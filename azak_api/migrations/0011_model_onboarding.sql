-- Onboarding a model or an A/B pair (issue 27 item 2): adding a model (POST /api/models with
-- `backfill`, `azak models add --backfill`) or a pair (POST /api/ab-tests with `backfill`) records a
-- request; the daemon's model_onboarding_sensor launches one model_onboarding_job run per request:
-- the models' news predictions and reports over the window, within the budget, then the evaluation
-- and the A/B comparisons. The run writes its id, its progress and its end here.
CREATE TABLE app.model_onboarding (
    id bigserial PRIMARY KEY,
    model_ids bigint[] NOT NULL CHECK (cardinality(model_ids) BETWEEN 1 AND 2),
    ab_test_id bigint REFERENCES app.ab_tests (id),
    window_start date,  -- NULL: the run's default (the month before the latest priced session)
    window_end date,  -- inclusive
    budget_usd numeric(12, 6) CHECK (budget_usd IS NULL OR budget_usd >= 0),  -- NULL: AZAK_LLM_BUDGET_USD
    origin text NOT NULL CHECK (origin IN ('api', 'cli', 'dagit')),
    requested_by bigint REFERENCES app.users (id) ON DELETE SET NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    status text NOT NULL DEFAULT 'requested'
        CHECK (status IN ('requested', 'running', 'succeeded', 'stopped', 'failed')),
    run_id text,
    step text,
    started_at timestamptz,
    finished_at timestamptz,
    spent_usd numeric(12, 6),
    error text,  -- failed: what went wrong; stopped: the budget that was spent
    CHECK (window_start IS NULL OR window_end IS NULL OR window_start <= window_end)
);
CREATE INDEX model_onboarding_requested ON app.model_onboarding (id) WHERE status = 'requested';
CREATE INDEX model_onboarding_by_pair ON app.model_onboarding (ab_test_id, id DESC);
CREATE INDEX model_onboarding_by_models ON app.model_onboarding USING gin (model_ids);
