-- Accounts that end, per-user on-demand limits, and public preview links.
-- expires_at: from then on the user is refused at login and on every request (null: never).
-- refresh_enabled / refreshes_per_day: whether the user may launch on-demand runs (refreshes and
-- one-article predictions) and how many a KST day (null: AZAK_ANALYSIS_REFRESHES_PER_DAY).
ALTER TABLE app.users
    ADD COLUMN expires_at timestamptz,
    ADD COLUMN refresh_enabled boolean NOT NULL DEFAULT true,
    ADD COLUMN refreshes_per_day integer CHECK (refreshes_per_day >= 0);

-- A link anyone can open to read one stock's page, without logging in: until expires_at (null:
-- until revoked), then 410. Revoking keeps the row, so the link answers 410, not 404.
CREATE TABLE app.preview_links (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    stock_code text NOT NULL CHECK (stock_code ~ '^[0-9A-Z]{6}$'),
    expires_at timestamptz,
    created_by bigint REFERENCES app.users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE INDEX preview_links_created ON app.preview_links (created_at DESC, id);
