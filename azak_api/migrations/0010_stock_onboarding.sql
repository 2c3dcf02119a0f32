-- Onboarding a stock added to the watch-list (issue 27 item 1): the adding path (API, CLI) records a
-- request; the daemon's stock_onboarding_sensor launches one run per request, and that run writes
-- its id, its progress and its end here. GET /api/stocks/{code} shows the latest request.
CREATE TABLE app.stock_onboarding (
    id bigserial PRIMARY KEY,
    stock_code text NOT NULL,
    origin text NOT NULL CHECK (origin IN ('api', 'cli', 'dagit')),
    requested_by bigint REFERENCES app.users (id) ON DELETE SET NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    status text NOT NULL DEFAULT 'requested'
        CHECK (status IN ('requested', 'running', 'succeeded', 'failed')),
    run_id text,
    step text,
    started_at timestamptz,
    finished_at timestamptz,
    error text
);
CREATE INDEX stock_onboarding_by_code ON app.stock_onboarding (stock_code, id DESC);
CREATE INDEX stock_onboarding_requested ON app.stock_onboarding (id) WHERE status = 'requested';
-- one open request per stock, even when two admins (or the API and the CLI) add it at once
CREATE UNIQUE INDEX stock_onboarding_one_open ON app.stock_onboarding (stock_code)
    WHERE status IN ('requested', 'running');
