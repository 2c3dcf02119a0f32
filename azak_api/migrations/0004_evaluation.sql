-- A/B pairs and human ratings of evaluations (issue 12).

-- Which two models are compared, with the history of every configuration: a new pair is a new
-- row and deactivates the previous active one; nothing is updated in place except `active`.
-- Results are always given for live and simulated predictions apart.
CREATE TABLE app.ab_tests (
    id bigserial PRIMARY KEY,
    model_a_id bigint NOT NULL REFERENCES app.models (id),
    model_b_id bigint NOT NULL REFERENCES app.models (id),
    min_n integer NOT NULL DEFAULT 30 CHECK (min_n BETWEEN 2 AND 100000),
    note text CHECK (note IS NULL OR length(note) <= 500),
    active boolean NOT NULL DEFAULT true,
    created_by bigint REFERENCES app.users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    deactivated_at timestamptz,
    CHECK (model_a_id <> model_b_id)
);
CREATE UNIQUE INDEX ab_tests_one_active ON app.ab_tests (active) WHERE active;

-- A person's rating of one evaluation (marts.prediction_outcomes.evaluation_id), one per user;
-- shown beside the automatic scores, never blended into them.
CREATE TABLE app.evaluation_ratings (
    id bigserial PRIMARY KEY,
    evaluation_id text NOT NULL CHECK (length(evaluation_id) BETWEEN 1 AND 200),
    user_id bigint NOT NULL REFERENCES app.users (id) ON DELETE CASCADE,
    quality smallint NOT NULL CHECK (quality BETWEEN 1 AND 5),
    usefulness smallint NOT NULL CHECK (usefulness BETWEEN 1 AND 5),
    overall smallint NOT NULL CHECK (overall BETWEEN 1 AND 5),
    reason text CHECK (reason IS NULL OR length(reason) <= 2000),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (evaluation_id, user_id)
);

-- Every change of a rating: the values before and after, who and when.
CREATE TABLE app.evaluation_rating_history (
    id bigserial PRIMARY KEY,
    rating_id bigint NOT NULL REFERENCES app.evaluation_ratings (id) ON DELETE CASCADE,
    evaluation_id text NOT NULL,
    changed_by bigint REFERENCES app.users (id) ON DELETE SET NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    old_values jsonb,
    new_values jsonb NOT NULL
);
CREATE INDEX evaluation_rating_history_by_evaluation ON app.evaluation_rating_history (evaluation_id, changed_at);
