-- On-demand report refreshes: who asked for which stock, and the Dagster run launched. Counts a
-- user's requests per KST day against AZAK_ANALYSIS_REFRESHES_PER_DAY (admins are not limited).
CREATE TABLE app.analysis_requests (
    id bigserial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES app.users (id) ON DELETE CASCADE,
    stock_code text NOT NULL CHECK (stock_code ~ '^[0-9A-Z]{6}$'),
    run_id text NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX analysis_requests_user_time ON app.analysis_requests (user_id, requested_at);
