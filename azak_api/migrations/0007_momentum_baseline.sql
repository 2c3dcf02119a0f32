-- A second offline model: the baseline's price components only (momentum and RSI mean reversion,
-- no similar-news outcomes and no news-impact history). Free and deterministic like `baseline`,
-- so it is active: every run predicts with both, and an A/B of the pair says whether the news
-- context adds anything over price momentum alone. A registry that already has a model of this
-- name keeps it.
INSERT INTO app.models (name, provider, model, kind, structured)
VALUES ('momentum', 'baseline', 'azak-momentum-v1', 'chat', NULL)
ON CONFLICT (name) DO NOTHING;
