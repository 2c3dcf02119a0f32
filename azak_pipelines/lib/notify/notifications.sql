-- name: subscribers
-- Active subscribers who watch at least one stock.
select chat_id, stocks, quiet_start, quiet_end
from app.telegram_subscribers
where active and cardinality(stocks) > 0
order by chat_id;

-- name: stock_names
select code, name from {stocks} where code = any(%(codes)s);

-- name: story_calls
-- High-impact calls of the day about watched stocks, one per (story, stock, model): the story is
-- the article's cluster (five outlets' copies are one story); among a model's calls on copies of
-- the story the strongest wins. The canonical article gives the title and the link.
select distinct on (a.cluster_id, p.stock_code, p.model_name)
       a.cluster_id, p.stock_code, p.model_name, p.direction, p.impact, p.probability, p.reasoning,
       p.made_at, c.news_id as canonical_id, c.title, c.press, c.cluster_size, c.published_at
from {predictions} p
join {articles} a on a.news_id = p.news_id and a.published_day = p.published_day
join {articles} c on c.news_id = a.cluster_id and c.is_canonical
where p.published_day = %(day)s
  and p.status = 'ok'
  and p.stock_code = any(%(codes)s)
  and (p.impact in ('high', 'critical') or p.probability >= %(threshold)s)
order by a.cluster_id, p.stock_code, p.model_name,
         case p.impact when 'critical' then 0 when 'high' then 1 else 2 end,
         p.probability desc nulls last, p.made_at desc;

-- name: report_changes
-- The day's reports whose recommendation differs from the same model's previous report on the
-- same stock (the first report of a stock is not a change).
select r.report_id, r.stock_code, r.model_name, prev.recommendation as previous, r.recommendation,
       r.summary, r.made_at
from {reports} r
cross join lateral (
    select p.recommendation from {reports} p
    where p.stock_code = r.stock_code and p.model_name = r.model_name and p.status = 'ok'
      and p.recommendation is not null and p.made_at < r.made_at
    order by p.made_at desc limit 1
) prev
where r.report_day = %(day)s and r.status = 'ok' and r.recommendation is not null
  and r.stock_code = any(%(codes)s) and prev.recommendation <> r.recommendation
order by r.made_at, r.report_id;

-- name: day_reports
-- Each model's latest report of the day per stock, for the digest.
select distinct on (stock_code, model_name) stock_code, model_name, recommendation
from {reports}
where report_day = %(day)s and status = 'ok' and stock_code = any(%(codes)s)
order by stock_code, model_name, made_at desc;

-- name: moves
-- The day's adjusted close and the change from the previous session's close.
select d.stock_code, d.close,
       d.close / nullif(prev.close, 0) - 1 as change
from {prices} d
left join lateral (
    select p.close from {prices} p
    where p.stock_code = d.stock_code and p.price_basis = 'adjusted' and p.trade_date < d.trade_date
    order by p.trade_date desc limit 1
) prev on true
where d.trade_date = %(day)s and d.price_basis = 'adjusted' and d.stock_code = any(%(codes)s);

-- name: alerts_sent
-- Alerts written for each chat for the day (the digest's count).
select chat_id, count(*) from app.telegram_notifications
where day = %(day)s and kind in ('prediction', 'report_change') and status <> 'skipped'
group by chat_id;

-- name: leaderboard
-- All-time standings, live predictions preferred over simulated ones, by hit rate.
select distinct on (model_name) model_name, n, (scores ->> 'hit_rate')::double precision as hit_rate
from {leaderboard}
where window_days = 0
order by model_name, (mode = 'live') desc;

-- name: earlier_stories
-- The stories the day's stories repeat: clusters of earlier articles the embeddings found at least
-- %(similarity)s similar (outlets' copies the clustering kept apart, follow-ups a day later).
select distinct a.cluster_id, n.cluster_id
from {articles} a
join {similar} s on s.news_id = a.news_id and s.published_day = a.published_day
join {articles} n on n.news_id = s.neighbor_id
where a.published_day = %(day)s and a.cluster_id = any(%(clusters)s)
  and s.similarity >= %(similarity)s and n.cluster_id <> a.cluster_id;

-- name: already_told
-- Which chats already have (or are about to get) a message under one of these keys.
select chat_id, dedup_key from app.telegram_notifications
where dedup_key = any(%(keys)s) and status in ('pending', 'sending', 'sent');
