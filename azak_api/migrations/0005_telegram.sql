-- Telegram: who is subscribed to what, and every message with its receipt.
--
-- The outbox lives here, not in `computed`: its rows are state (a receipt, a Telegram message
-- id, attempts), not data a re-materialization may delete and rebuild. UNIQUE (chat_id, dedup_key)
-- makes "once per story per subscriber" a database rule: re-running a partition, a second
-- outlet's copy of a story or a concurrent run finds the row already there.

CREATE TABLE app.telegram_subscribers (
    chat_id bigint PRIMARY KEY,
    user_id bigint REFERENCES app.users (id) ON DELETE SET NULL,
    username text,
    stocks text[] NOT NULL DEFAULT '{}' CHECK (cardinality(stocks) <= 100),
    quiet_start smallint CHECK (quiet_start BETWEEN 0 AND 23),
    quiet_end smallint CHECK (quiet_end BETWEEN 0 AND 23),
    language text NOT NULL DEFAULT 'ko' CHECK (language IN ('ko')),
    active boolean NOT NULL DEFAULT true,
    inactive_reason text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
);
CREATE INDEX telegram_subscribers_stocks ON app.telegram_subscribers USING gin (stocks);

CREATE TABLE app.telegram_notifications (
    id bigserial PRIMARY KEY,
    chat_id bigint NOT NULL,
    kind text NOT NULL CHECK (kind IN ('prediction', 'report_change', 'digest', 'run_failure', 'check_failure')),
    dedup_key text NOT NULL,
    day date NOT NULL,
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 4096),
    not_before timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
    attempts integer NOT NULL DEFAULT 0,
    telegram_message_id bigint,
    error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    claimed_at timestamptz,
    sent_at timestamptz,
    CONSTRAINT telegram_notifications_once UNIQUE (chat_id, dedup_key)
);
CREATE INDEX telegram_notifications_due ON app.telegram_notifications (status, not_before);
CREATE INDEX telegram_notifications_day ON app.telegram_notifications (day);

COMMENT ON TABLE app.telegram_notifications IS
    'The Telegram outbox: every message is written here first, then delivered with a receipt.';
COMMENT ON COLUMN app.telegram_notifications.dedup_key IS
    'what the message is about: story:<cluster>:<stock>, report:<id>, digest:<day>, run-failure:<run>, check:<...>';
COMMENT ON COLUMN app.telegram_notifications.status IS
    'pending → sending → sent | failed (permanent error or attempts used up) | skipped (chat inactive, stale)';
