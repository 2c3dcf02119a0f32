{#-
  news_price_impact's pre-hook: which links to recompute, per stock from a time on
  (`news_price_impact__resume (stock_code, since)`, several rows per stock allowed; the model and
  the resume_from strategy take every link of the stock with effective_at >= since).

  A link's row depends on the link itself, its stock's closes from its anchor session to T+horizon,
  the benchmark's closes over the same sessions, and the calendar. So a stock is resumed
  * from the earlier of the old and new time of a link that is new, changed or gone;
  * from a link that has no anchor session yet (published after the calendar's last session);
  * from the close of session S - horizon - 1 when its closes changed from session S
    (marts.daily_prices' change log): every link anchored at S - horizon or later;
  and every stock is, when the benchmark's closes changed from S (marts.index_daily's change log)
  or the calendar changed (then from the start). The change logs are taken in this run's
  transaction; a full build takes them too and records the calendar it used.
-#}
{#- news_price_impact's horizons (sessions after the anchor) and its benchmark index (KOSPI): the
    model and its pre-hook read them here, so the two cannot disagree. -#}
{% macro price_impact_horizons() %}{{ return([1, 2, 3, 5, 10, 20]) }}{% endmacro %}
{% macro price_impact_benchmark() %}{{ return('0001') }}{% endmacro %}

{% macro price_impact_resume() %}
{%- set benchmark = price_impact_benchmark() %}
{%- set horizon = price_impact_horizons() | max %}
{{ consume_changes(ref('daily_prices'), this.identifier ~ '__closes') }};
{{ consume_changes(ref('index_daily'), this.identifier ~ '__benchmark') }};

create table if not exists {{ this.schema }}.{{ this.identifier }}__calendar (fingerprint text not null);
create temporary table {{ this.identifier }}__calendar_now on commit drop as
select coalesce(md5(string_agg(trading_date || ' ' || session_number || ' ' || close_at, ',' order by trading_date)), 'no calendar')
    as fingerprint
from {{ ref('trading_days') }};

{% if is_incremental() %}
{{ resume_points('select m.*, a.published_at, ' ~ effective_at('a') ~ ' as effective_at '
                 ~ links_of_articles(written=true),
                 'stock_code', 'effective_at', ['score', 'salient', 'published_at', 'published_day'],
                 match=['news_id'], written={'day': 'published_day'}) }};

insert into {{ resume_points_table() }}
select stock_code, min(effective_at) from {{ this }} where anchor_date is null group by 1;

insert into {{ resume_points_table() }}
select c.stock_code, {{ close_before_session_of('c.since', horizon + 1) }}
from (
    select key as stock_code, min(since) as since
    from {{ this.identifier }}__closes
    where key is not null
    group by 1
) as c;

-- every stock, when a reason applies (the stocks are listed only then: a one-time filter)
create temporary table {{ this.identifier }}__everything on commit drop as
select min(since) as since
from (
    -- marts.daily_prices was built in full
    select '-infinity'::timestamptz as since
    from {{ this.identifier }}__closes where key is null
    union all
    select {{ close_before_session_of('b.since', horizon + 1) }}
    from (
        select min(since) as since, count(*) as changes
        from {{ this.identifier }}__benchmark
        where key is null or key = '{{ benchmark }}'
    ) as b
    where b.changes > 0
    union all
    select '-infinity'::timestamptz
    from {{ this.identifier }}__calendar_now as c
    where c.fingerprint is distinct from (select max(fingerprint) from {{ this.schema }}.{{ this.identifier }}__calendar)
) as reasons;

-- every stock with a stored row: a link not stored yet was written since the last run, so the
-- comparison above has its stock already. The stored stocks are read from the (stock_code, ...)
-- index one code at a time (2,900 probes instead of a scan of a million rows).
insert into {{ resume_points_table() }}
with recursive stored as (
    (select stock_code from {{ this }} order by stock_code limit 1)
    union all
    select (select t.stock_code from {{ this }} as t where t.stock_code > s.stock_code order by t.stock_code limit 1)
    from stored as s
    where s.stock_code is not null
)
select s.stock_code, (select since from {{ this.identifier }}__everything)
from stored as s
where s.stock_code is not null and (select since from {{ this.identifier }}__everything) is not null;

-- the planner has no statistics for a temporary table: without them it guessed a handful of resumed
-- links and joined the closes by nested loops over the whole resumed range (minutes at whole-market
-- size); every join of this model is an equality join that a hash join serves
analyze {{ resume_points_table() }};
set local enable_nestloop = off;
{% endif %}

delete from {{ this.schema }}.{{ this.identifier }}__calendar;
insert into {{ this.schema }}.{{ this.identifier }}__calendar select fingerprint from {{ this.identifier }}__calendar_now
{% endmacro %}

{#- The close of the session `sessions` before the first session on or after the date `day`:
    '-infinity' when there is none (before the calendar, or `day` is null or past it). -#}
{% macro close_before_session_of(day, sessions) %}
coalesce((
    select earlier.close_at
    from {{ ref('trading_days') }} as first_on
    join {{ ref('trading_days') }} as earlier on earlier.session_number = first_on.session_number - {{ sessions }}
    where first_on.trading_date >= {{ day }}
    order by first_on.trading_date
    limit 1
), '-infinity')
{% endmacro %}

{#- The time a link counts from (effective_at), given its article's alias: a filing that carries
    only a date (DART) counts as published at the end of that day, never earlier than it could have
    been known. news_price_impact orders its links by it, and its pre-hook compares them by it. -#}
{% macro effective_at(article) %}
case
    when {{ article }}.published_precision = 'day'
        then (({{ article }}.published_day + 1)::timestamp at time zone 'Asia/Seoul')
    else {{ article }}.published_at
end
{%- endmacro %}

{#- A link and its article (a link is stored under its article's day), optionally only from the
    day `since_day` (an expression) or only on the days written since the model's last run
    (`written`, see take_written_slices): the filter on both sides, so each prunes its partitions. -#}
{% macro links_of_articles(since_day=none, written=false) %}
from {{ ref('stg_news__stock_matches') }} as m
join {{ ref('stg_news__articles') }} as a on a.news_id = m.news_id and a.published_day = m.published_day
{%- if since_day %}
where m.published_day >= {{ since_day }} and a.published_day >= {{ since_day }}
{%- elif written %}
where {{ in_written_slices('m', 'published_day') }}
  and {{ in_written_slices('a', 'published_day') }}
{%- endif %}
{% endmacro %}

{#- news_stock_matches' second pre-hook: a renamed company's links are rewritten whatever was
    written, from its first link on. -#}
{% macro news_stock_matches_renamed() %}
{% if is_incremental() %}
insert into {{ resume_points_table() }}
select n.stock_code, '-infinity'::timestamptz
from (select distinct stock_code, stock_name from {{ this }}) as n
where n.stock_name is distinct from (
    select s.stock_name from {{ ref('stg_krx__stocks') }} as s where s.stock_code = n.stock_code
)
{% endif %}
{% endmacro %}
