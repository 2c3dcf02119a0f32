{#-
  The anchor of anything said at `at` (a timestamptz expression): the number of the first KRX
  session whose regular close is at or after it — so a time after 15:30 KST, or on a closed day,
  anchors on the next session. The one rule for news impact and for evaluating predictions.
-#}
{% macro anchor_session(at) %}
(
    select td.session_number
    from {{ ref('trading_days') }} as td
    where td.close_at >= {{ at }}
    order by td.close_at
    limit 1
)
{% endmacro %}
