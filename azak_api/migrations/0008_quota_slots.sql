-- Per-user daily quota of on-demand work (report refreshes; on-demand predictions draw on the same
-- quota): slot 1..N of a user's KST day is one row, so two requests can never take the same slot
-- and the quota holds under parallel requests. A slot whose run failed to launch is deleted again.
CREATE TABLE app.quota_slots (
    user_id bigint NOT NULL REFERENCES app.users (id) ON DELETE CASCADE,
    kst_day date NOT NULL,
    slot integer NOT NULL CHECK (slot >= 1),
    purpose text NOT NULL,
    taken_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, kst_day, slot)
);
-- the refreshes counted today before the slots existed keep counting (same KST day)
INSERT INTO app.quota_slots (user_id, kst_day, slot, purpose, taken_at)
SELECT user_id, (requested_at AT TIME ZONE 'Asia/Seoul')::date,
       row_number() OVER (PARTITION BY user_id, (requested_at AT TIME ZONE 'Asia/Seoul')::date
                          ORDER BY requested_at, id),
       'refresh', requested_at
FROM app.analysis_requests
WHERE requested_at >= now() - interval '1 day';
