{#-
  marts.daily_bar_json(...): one daily bar as the JSON object the API sends for it (schemas.DailyBar,
  its keys in that order), written once by the pipeline that writes the bar (marts.daily_prices'
  bar_json) so that the prices route joins stored texts instead of rendering ~18 values per bar
  on every request (docs/figures.md). The bytes are PostgreSQL's own JSON for each value, as
  json_agg writes a row (azak_api/json_sql.py): numbers as float8 text, NaN and infinities as null
  (msgspec's encoding), the date as to_json writes it. One SQL expression, so the planner inlines
  it: a dbt build pays about as much per row as the route used to per bar.
-#}
{% macro create_json_functions() %}
create schema if not exists marts;

create or replace function marts.json_number(value double precision) returns text
language sql immutable parallel safe as $$
    select coalesce(case when value < 'Infinity' and value > '-Infinity' then value::text end, 'null')
$$;

-- a price: compared as numeric, converted to float8 once (the conversion goes through text)
create or replace function marts.json_number(value numeric) returns text
language sql immutable parallel safe as $$
    select coalesce(case when value < 'Infinity' and value > '-Infinity' then value::double precision::text end,
                    'null')
$$;

create or replace function marts.daily_bar_json(
    trade_date date, open numeric, high numeric, low numeric, close numeric, volume bigint, is_halt boolean,
    return_1d double precision, ma_5 double precision, ma_20 double precision, ma_60 double precision,
    rsi_14 double precision, macd double precision, macd_signal double precision,
    macd_histogram double precision, bollinger_upper double precision, bollinger_mid double precision,
    bollinger_lower double precision
) returns text
language sql stable parallel safe as $$
    select '{"date":' || to_json(trade_date)::text
        || ',"open":' || marts.json_number(open)
        || ',"high":' || marts.json_number(high)
        || ',"low":' || marts.json_number(low)
        || ',"close":' || marts.json_number(close)
        || ',"volume":' || coalesce(volume::text, 'null')
        || ',"is_halt":' || coalesce(is_halt::text, 'null')
        || ',"return_1d":' || marts.json_number(return_1d)
        || ',"ma_5":' || marts.json_number(ma_5)
        || ',"ma_20":' || marts.json_number(ma_20)
        || ',"ma_60":' || marts.json_number(ma_60)
        || ',"rsi_14":' || marts.json_number(rsi_14)
        || ',"macd":' || marts.json_number(macd)
        || ',"macd_signal":' || marts.json_number(macd_signal)
        || ',"macd_histogram":' || marts.json_number(macd_histogram)
        || ',"bollinger_upper":' || marts.json_number(bollinger_upper)
        || ',"bollinger_mid":' || marts.json_number(bollinger_mid)
        || ',"bollinger_lower":' || marts.json_number(bollinger_lower)
        || '}'
$$;
{% endmacro %}
