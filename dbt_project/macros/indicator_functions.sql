{#-
  ema_state(value, n, alpha, seed): a running exponential moving average, used as a window
  function; it returns its whole state, {count, sum of the first n values, average}, so a later
  incremental build can resume from a stored state exactly (``seed``) instead of re-reading the
  whole history. Start from '{0,0,NULL}'. The average (state[3]) is NULL for the first n-1 values,
  seeded with their simple average at the n-th (the TA-Lib convention), then
  value_t = value_{t-1} + alpha * (x_t - value_{t-1}). NULL inputs are skipped.
  With alpha = 2/(n+1) this is the usual EMA; with alpha = 1/n it is Wilder's smoothing (RSI).
-#}
{% macro create_indicator_functions() %}
create schema if not exists marts;

create or replace function marts.ema_state_step(state double precision[], x double precision,
                                                n integer, alpha double precision,
                                                seed double precision[])
returns double precision[] language plpgsql immutable as $$
begin
    state := coalesce(state, seed);
    if x is null then
        return state;
    elsif state[1] < n - 1 then
        return array[state[1] + 1, state[2] + x, null];
    elsif state[1] = n - 1 then
        return array[state[1] + 1, state[2] + x, (state[2] + x) / n];
    end if;
    return array[state[1] + 1, state[2], state[3] + alpha * (x - state[3])];
end
$$;

create or replace aggregate marts.ema_state(double precision, integer, double precision, double precision[]) (
    sfunc = marts.ema_state_step,
    stype = double precision[]
);

{% endmacro %}
