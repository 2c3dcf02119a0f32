-- A warehouse at whole-market size, made with generate_series straight into the marts the API
-- reads (benchmarks/api_scale.py). The tables keep the columns, constraints and indexes dbt gave
-- them: rows are replaced, not the tables. Values are synthetic but shaped like the real ones:
-- popular stocks get most of the news (a skewed pick), a tenth of the articles carry only a day
-- (DART-like, all at 00:00 KST: many ties on published_at), ids are 63-bit hashes.
-- Parameters: {stocks} listings in all, {years} years of daily bars to {last_day},
-- {articles} articles over {news_days} days, {minute_stocks} stocks with {minute_days}
-- days of minute bars.

-- name: add_listings
INSERT INTO marts.stocks (stock_code, stock_name, market, section, industry, listed_on, market_cap,
                          listed_shares, is_watchlist)
SELECT 'S' || lpad(i::text, 5, '0'), '합성종목' || i, CASE WHEN i % 3 = 0 THEN 'KOSPI' ELSE 'KOSDAQ' END,
       'STK', '업종' || (i % 40), DATE '2000-01-01' + i::int, (1e12 / i)::bigint, 1000000 + i, i % 50 = 0
FROM generate_series(1, greatest(0, {stocks} - (SELECT count(*) FROM marts.stocks))) AS i;

-- name: ranked
CREATE TEMPORARY TABLE ranked AS
SELECT stock_code, stock_name, row_number() OVER (ORDER BY market_cap DESC NULLS LAST, stock_code) AS rank
FROM marts.stocks ORDER BY rank LIMIT {stocks};

-- name: daily_prices
INSERT INTO marts.daily_prices (stock_code, trade_date, open, high, low, close, volume, trading_value,
                                 is_halt, return_1d, ma_5, ma_20, ma_60, rsi_14, macd, macd_signal,
                                 macd_histogram, bollinger_mid, bollinger_upper, bollinger_lower, source, bar_json)
SELECT b.*, marts.daily_bar_json(b.day, b.open, b.high, b.low, b.close, b.volume, b.is_halt, b.return_1d, b.ma_5,
                                 b.ma_20, b.ma_60, b.rsi_14, b.macd, b.macd_signal, b.macd_histogram,
                                 b.bollinger_upper, b.bollinger_mid, b.bollinger_lower)
FROM (
SELECT s.stock_code, d.day, (c.close * 0.99)::numeric(14, 2) AS open, (c.close * 1.02)::numeric(14, 2) AS high,
       (c.close * 0.98)::numeric(14, 2) AS low, c.close, (100000 + s.rank * 7 % 50000)::bigint AS volume,
       (c.close * 100000)::bigint, FALSE AS is_halt,
       0.01 * sin(d.n + s.rank) AS return_1d, c.close::float8 AS ma_5, (c.close * 1.01)::float8 AS ma_20,
       (c.close * 0.99)::float8 AS ma_60, 50 + 40 * sin(d.n / 7.0) AS rsi_14,
       sin(d.n / 9.0) AS macd, sin(d.n / 11.0) AS macd_signal, sin(d.n / 9.0) - sin(d.n / 11.0) AS macd_histogram,
       c.close::float8 AS bollinger_mid, (c.close * 1.05)::float8 AS bollinger_upper,
       (c.close * 0.95)::float8 AS bollinger_lower, 'synthetic'
FROM ranked AS s
CROSS JOIN (SELECT day::date, row_number() OVER (ORDER BY day) AS n
            FROM generate_series({last_day}::date - make_interval(years => {years}),
                                 {last_day}::date, interval '1 day') AS day
            WHERE extract(isodow FROM day) < 6) AS d
CROSS JOIN LATERAL (SELECT round((10000 + 5000 * sin(d.n / 60.0 + s.rank) + s.rank)::numeric, 2) AS close) AS c
) AS b;

-- name: minute_prices
INSERT INTO marts.minute_prices (stock_code, trade_date, bar_time, open, high, low, close, volume)
SELECT s.stock_code, d.day, (d.day + time '09:00' + make_interval(mins => m)) AT TIME ZONE 'Asia/Seoul',
       10000 + m, 10010 + m, 9990 + m, 10000 + m, 100 + m
FROM (SELECT stock_code FROM ranked ORDER BY rank LIMIT {minute_stocks}) AS s
CROSS JOIN (SELECT day::date FROM generate_series({last_day}::date - 60, {last_day}::date, interval '1 day') AS day
            WHERE extract(isodow FROM day) < 6 ORDER BY day DESC LIMIT {minute_days}) AS d
CROSS JOIN generate_series(0, 380) AS m;

-- name: news_articles
-- stocks ranked by market cap; rank floor(n * r^3) makes the top listings the most covered
INSERT INTO marts.news_articles (news_id, published_at, published_day, published_precision, title, summary, url,
                                 press, source, sources, content_type, cluster_id, is_canonical, cluster_size,
                                 stock_codes, mentioned_codes)
SELECT a.news_id, a.published_at, (a.published_at AT TIME ZONE 'Asia/Seoul')::date, a.precision,
       '합성 기사 ' || i || ' ' || repeat('실적 전망 ', (1 + i % 5)::int), repeat('요약 문장입니다. ', (10 + i % 10)::int),
       'https://news.example/' || i, '언론' || (i % 30), a.source, ARRAY[a.source], a.content_type,
       a.news_id - i % 3, i % 3 = 0, 3, a.codes[1:a.salient::int], a.codes
FROM generate_series(1::bigint, {articles}) AS i
CROSS JOIN LATERAL (
    SELECT hashtextextended(i::text, 0) & 9223372036854775807 AS news_id,
           CASE WHEN i % 10 = 0 THEN (({last_day}::date - (i * 7919 % {news_days})::int)::timestamp
                                      AT TIME ZONE 'Asia/Seoul')
                ELSE date_trunc('minute', ({last_day}::date + time '18:00') AT TIME ZONE 'Asia/Seoul'
                                - make_interval(secs => (i * 104729 % ({news_days} * 86400))))
           END AS published_at,
           CASE WHEN i % 10 = 0 THEN 'day' ELSE 'minute' END AS precision,
           CASE WHEN i % 10 = 0 THEN 'dart' ELSE (ARRAY['naver_finance', 'hankyung', 'maeil', 'reddit'])[(1 + i % 4)::int]
           END AS source,
           CASE WHEN i % 10 = 0 THEN 'disclosure' ELSE 'news' END AS content_type,
           i % 4 AS salient,
           ARRAY(SELECT DISTINCT r.stock_code FROM generate_series(1, i % 4 + i % 2) AS k
                 JOIN ranked AS r ON r.rank = 1 + floor((SELECT count(*) FROM ranked)
                                                        * power(((i * 31 + k * 7907) % 10007) / 10007.0, 3))::int
                 ) AS codes
) AS a;

-- name: news_stock_matches
INSERT INTO marts.news_stock_matches (news_id, stock_code, stock_name, score, salient, surfaces, evidence,
                                      linker_version, published_at, published_day)
SELECT a.news_id, c.code, r.stock_name, 0.9 - 0.1 * c.k, c.code = ANY(a.stock_codes), ARRAY[r.stock_name],
       'title', 'synthetic', a.published_at, a.published_day
FROM marts.news_articles AS a
CROSS JOIN LATERAL unnest(a.mentioned_codes) WITH ORDINALITY AS c(code, k)
JOIN ranked AS r ON r.stock_code = c.code;

-- name: news_price_impact
INSERT INTO marts.news_price_impact (news_id, stock_code, salient, score, published_at, published_day, effective_at,
                                     anchor_date,
                                     base_close,
                                     return_1d, excess_1d, return_2d, excess_2d, return_3d, excess_3d,
                                     return_5d, excess_5d, return_10d, excess_10d, return_20d, excess_20d,
                                     kospi_base_close)
SELECT news_id, stock_code, salient, score, published_at, published_day, published_at,
       (published_at AT TIME ZONE 'Asia/Seoul')::date,
       10000,
       0.01, 0.002, 0.012, 0.003, 0.013, 0.004, 0.015, 0.005, 0.02, 0.006, 0.03, 0.007, 2500
FROM marts.news_stock_matches;
