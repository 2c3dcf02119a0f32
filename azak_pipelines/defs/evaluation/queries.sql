-- name: outcomes
-- Every evaluated prediction with what scoring needs.
select evaluation_id, model_name, mode, source_kind, stock_code, made_at, anchor_date, horizon_sessions, direction,
       probability, base_price, target_price, stop_price, status, realised_return, excess_return,
       direction_hit, target_first_days, stop_first_days, outcome, outcome_days, window_high, window_low,
       sigma_60, news_id, model_id
from marts.prediction_outcomes
order by evaluation_id;

-- name: failed_attempts
-- Failed and skipped attempts: counted, never scored.
select model_name, mode, made_at
from staging.stg_predictions__items
where status <> 'ok';

-- name: as_of
-- The last session any price is known for: windows of the leaderboard end here.
select max(trade_date) from marts.daily_prices;

-- name: ab_tests
select t.id, a.name as model_a, b.name as model_b, t.min_n
from app.ab_tests as t
join app.models as a on a.id = t.model_a_id
join app.models as b on b.id = t.model_b_id
order by t.id;

-- name: anchored_before_made
-- Evaluations whose anchor session closed before the prediction was made (a leak).
select o.evaluation_id, o.made_at, o.anchor_date, td.close_at as anchor_close_at
from marts.prediction_outcomes as o
join marts.trading_days as td on td.trading_date = o.anchor_date
where td.close_at < o.made_at
limit 50;

-- name: final_with_missing_session
-- Final evaluations whose window lacks a bar for some session, counted independently of the mart.
select o.evaluation_id, o.stock_code, o.anchor_date, o.horizon_sessions, count(p.trade_date) as bars
from marts.prediction_outcomes as o
join marts.trading_days as a on a.trading_date = o.anchor_date
join marts.trading_days as w
    on w.session_number between a.session_number + 1 and a.session_number + o.horizon_sessions
left join marts.daily_prices as p on p.stock_code = o.stock_code and p.trade_date = w.trading_date
where o.status = 'final'
group by o.evaluation_id, o.stock_code, o.anchor_date, o.horizon_sessions
having count(p.trade_date) <> o.horizon_sessions or count(w.trading_date) <> o.horizon_sessions
limit 50;
