-- Tables the API owns. Pipelines only read app.stock_watchlist.
CREATE SCHEMA IF NOT EXISTS app;

CREATE TABLE app.users (
    id bigserial PRIMARY KEY,
    email text NOT NULL UNIQUE CHECK (email = lower(email) AND position('@' IN email) > 1),
    password_hash text NOT NULL,
    role text NOT NULL CHECK (role IN ('user', 'admin')),
    display_name text,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz
);

CREATE TABLE app.revoked_tokens (
    jti text PRIMARY KEY,
    user_id bigint,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX revoked_tokens_expiry ON app.revoked_tokens (expires_at);

CREATE TABLE app.stock_watchlist (
    code text PRIMARY KEY CHECK (code ~ '^[0-9A-Z]{6}$'),
    name text,
    market text,
    active boolean NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by bigint REFERENCES app.users (id) ON DELETE SET NULL
);
