{#-
  seeded_ema(value, n, alpha): a running exponential moving average, usable as a window function.
  It is NULL for the first n-1 values, seeded with their simple average at the n-th (the TA-Lib
  convention), then value_t = value_{t-1} + alpha * (x_t - value_{t-1}). NULL inputs are skipped.
  With alpha = 2/(n+1) this is the usual EMA; with alpha = 1/n it is Wilder's smoothing (RSI).
-#}
{% macro create_indicator_functions() %}
create schema if not exists marts;

create or replace function marts.seeded_ema_step(state double precision[], x double precision,
                                                 n integer, alpha double precision)
returns double precision[] language sql immutable strict as $$
    select case
        when state[1] < n - 1 then array[state[1] + 1, state[2] + x, null]
        when state[1] = n - 1 then array[state[1] + 1, state[2] + x, (state[2] + x) / n]
        else array[state[1] + 1, state[2], state[3] + alpha * (x - state[3])]
    end
$$;

create or replace function marts.seeded_ema_final(state double precision[])
returns double precision language sql immutable as $$
    select state[3]
$$;

create or replace aggregate marts.seeded_ema(double precision, integer, double precision) (
    sfunc = marts.seeded_ema_step,
    stype = double precision[],
    finalfunc = marts.seeded_ema_final,
    initcond = '{0,0,NULL}'
);
{% endmacro %}
