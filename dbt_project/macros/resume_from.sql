{#-
  Incremental models that resume per key (one stock's time series) instead of appending.

  `resume_points(inputs, key, order_by, compare, match)` is the model's pre-hook. In an incremental
  run it records, per key, the first `order_by` value where the model's inputs (a select) and the
  stored table disagree: a new row, a changed one (any `compare` column), or a stored row whose
  input is gone. Rows are matched on the key and `match` (default: `order_by`); when `order_by` is
  not part of a row's identity (a time), a row whose time changed counts from the earlier one.
  The model reads it as `resume_points_table()` (key, since) and recomputes each such key from
  `since`; the `resume_from` strategy then replaces those keys' rows from `since` on, in
  the run's transaction. Keys that did not change are neither recomputed nor rewritten.
  With `written` ({'day': column, 'code': column or none}) only the rows of the slices written to
  the model's raw tables since its last run are compared (`take_written_slices`, below).
-#}
{#- The resume points' table: `<model>__resume` (key, since), a temporary table of the run's
    transaction. A dbt unit test of a model overrides this macro with a select of its own points. -#}
{% macro resume_points_table() -%}
{{ this.identifier }}__resume
{%- endmacro %}

{% macro resume_points(inputs, key, order_by, compare, match=none, written=none) %}
{% if is_incremental() %}
create temporary table {{ resume_points_table() }} on commit drop as
select coalesce(i.{{ key }}, t.{{ key }}) as {{ key }},
       min(least(i.{{ order_by }}, t.{{ order_by }})) as since
{%- if written %}
from (select * from ({{ inputs }}) as x where {{ in_written_slices('x', **written) }}) as i
full join (select * from {{ this }} as x where {{ in_written_slices('x', **written) }}) as t
{%- else %}
from ({{ inputs }}) as i
full join {{ this }} as t
{%- endif %} on t.{{ key }} = i.{{ key }}
{%- for column in match or [order_by] %} and t.{{ column }} = i.{{ column }}{% endfor %}
where i.{{ key }} is null or t.{{ key }} is null
   or (i.{{ (compare + [order_by]) | join(', i.') }}) is distinct from (t.{{ (compare + [order_by]) | join(', t.') }})
group by 1
{% endif %}
{% endmacro %}

{#-
  Written slices. The warehouse writer logs each slice it writes to a raw table ([start, end) and
  the stock codes it was restricted to) once for every model registered as that table's reader
  (azak_pipelines/lib/warehouse.py). `take_written_slices(sources, code)` is the model's pre-hook:
  the first time, it registers the model as a reader of each source and logs "everything" for it
  (what was written before is in no log), under a lock that waits for the writes in flight and holds
  new ones until the model commits, so no write falls between the log and the model's snapshots
  (the lock conflicts with itself: two models registering at once take turns, never deadlock).
  It then takes (deletes) the model's rows in the model's transaction into
  `<model>__slices` (lo, hi, everything) and `<model>__days` (day, code: null when the write covered
  every stock), so a change is taken once and is not lost when the run fails. `everything` is true
  for a table without partitions, a first registration, or a write of more than `limit` (day, stock)
  pairs; the model then compares all of its inputs. `in_written_slices(alias, day, code)` is the
  filter on a row, for the inputs and the stored table alike.
-#}
{% macro take_written_slices(sources, code=none, limit=200000) %}
{%- set reader = this.schema ~ '.' ~ this.identifier %}
do $$
begin
{%- for source in sources %}
    if not exists (select from raw.slice_readers
                   where source = '{{ source.schema }}.{{ source.identifier }}' and reader = '{{ reader }}') then
        lock table raw.written_slices in share row exclusive mode;
        insert into raw.slice_readers (source, reader)
        values ('{{ source.schema }}.{{ source.identifier }}', '{{ reader }}');
        insert into raw.written_slices (reader, source)
        values ('{{ reader }}', '{{ source.schema }}.{{ source.identifier }}');
    end if;
{%- endfor %}
end $$;

{% if is_incremental() -%}
-- an incremental run reads a few days: the planner's estimates over a hundred partitions are far
-- higher, and compiling its plans (JIT) took ~10 s per statement at whole-market size
set local jit = off;
{%- endif %}

create temporary table {{ this.identifier }}__written on commit drop as
with taken as (
    delete from raw.written_slices
    where reader = '{{ reader }}'
      and source in ({% for s in sources %}'{{ s.schema }}.{{ s.identifier }}'{{ ', ' if not loop.last }}{% endfor %})
    returning slice_start, slice_end, scope
)
select slice_start, slice_end,
       {% if code %}nullif(array(select jsonb_array_elements_text(scope -> '{{ code }}')), '{}'){% else %}null::text[]{% endif %} as codes
from taken;

create temporary table {{ this.identifier }}__slices on commit drop as
select everything,
       case when everything then '-infinity'::date else lo end as lo,
       case when everything then 'infinity'::date else hi end as hi
from (
    select coalesce(bool_or(slice_start is null)
                    or sum((slice_end - slice_start)::bigint * coalesce(cardinality(codes), 1)) > {{ limit }}, false)
               as everything,
           min(slice_start) as lo,
           max(slice_end) as hi
    from {{ this.identifier }}__written
) as w;

create temporary table {{ this.identifier }}__days on commit drop as
select distinct d::date as day, c.code
from {{ this.identifier }}__written as w
cross join lateral generate_series(w.slice_start, w.slice_end - 1, interval '1 day') as d
left join lateral unnest(w.codes) as c(code) on true
where not (select everything from {{ this.identifier }}__slices);
analyze {{ this.identifier }}__days
{% endmacro %}

{% macro in_written_slices(alias, day, code=none) -%}
{{ alias }}.{{ day }} >= (select lo from {{ this.identifier }}__slices)
and {{ alias }}.{{ day }} < (select hi from {{ this.identifier }}__slices)
and ((select everything from {{ this.identifier }}__slices)
     or {{ alias }}.{{ day }} in (select day from {{ this.identifier }}__days where code is null)
     {%- if code %}
     or ({{ alias }}.{{ day }}, {{ alias }}.{{ code }}) in (select day, code from {{ this.identifier }}__days where code is not null)
     {%- endif %})
{%- endmacro %}

{#-
  Change logs: a model that other incremental models read calls `log_changes()` as a pre-hook after
  `resume_points`, and so appends, in the same transaction as its write, what it rewrites: one row
  (key, since) per resumed key, or (null, null) when it is built in full (everything changed). A reader takes the rows with
  `consume_changes` in its own transaction, so a change is seen once, never lost if a run fails, and
  no clock or watermark is involved. One reader per log.
-#}
{% macro change_log(relation) -%}
{{ relation.schema }}.{{ relation.identifier }}__changes
{%- endmacro %}

{% macro ensure_change_log(relation) %}
create table if not exists {{ change_log(relation) }} (
    key text,
    since date,
    logged_at timestamptz not null default clock_timestamp()
)
{% endmacro %}

{% macro log_changes() %}
{{ ensure_change_log(this) }};
{% if is_incremental() %}
insert into {{ change_log(this) }} (key, since)
select {{ config.require('unique_key') }}::text, since from {{ resume_points_table() }}
{% else %}
insert into {{ change_log(this) }} (key, since) values (null, null)
{% endif %}
{% endmacro %}

{#- The rows of `relation`'s change log, taken (deleted) into a temporary table `into` (key, since). -#}
{% macro consume_changes(relation, into) %}
{{ ensure_change_log(relation) }};
create temporary table {{ into }} on commit drop as
select key, since from {{ change_log(relation) }} with no data;
with taken as (delete from {{ change_log(relation) }} returning key, since)
insert into {{ into }} select key, since from taken
{% endmacro %}

{% macro get_incremental_resume_from_sql(arg_dict) %}
{%- set target = arg_dict['target_relation'] -%}
{%- set key = config.require('unique_key') -%}
{%- set order_by = config.require('resume_order_by') -%}
{%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
delete from {{ target }} as t
using {{ resume_points_table() }} as r
where t.{{ key }} = r.{{ key }} and t.{{ order_by }} >= r.since;

insert into {{ target }} ({{ columns }})
select {{ columns }} from {{ arg_dict['temp_relation'] }};
{% endmacro %}

{#-
  on-run-start: an incremental model is built once and then only resumed, so a stored table that
  lacks what its .yml declares now (a release added a column, an index or a check) is dropped, and
  the run builds it in full with its columns, indexes and checks.
-#}
{% macro rebuild_changed_incrementals() %}
{% if execute %}
{% for node in graph.nodes.values()
       if node.resource_type == 'model' and node.config.materialized == 'incremental' %}
    {% set relation = adapter.get_relation(node.database, node.schema, node.alias) %}
    {% if relation is not none %}
        {% set stored = adapter.get_columns_in_relation(relation) | map(attribute='name') | list %}
        {% set indexed = run_query(
            "select string_agg(a.attname, ',' order by k.ord) from pg_index as i "
            ~ "cross join lateral unnest(i.indkey) with ordinality as k(attnum, ord) "
            ~ "join pg_attribute as a on a.attrelid = i.indrelid and a.attnum = k.attnum "
            ~ "where i.indrelid = '" ~ relation ~ "'::regclass group by i.indexrelid").columns[0].values() %}
        {% set missing = [] %}
        {% for index in node.config.get('indexes') or [] %}
            {% if index['columns'] | join(',') not in indexed %}{% do missing.append(index['columns']) %}{% endif %}
        {% endfor %}
        {% set checks = [] %}
        {% for column in node.columns.values() %}
            {% for constraint in column.constraints if constraint.type == 'check' %}{% do checks.append(1) %}{% endfor %}
        {% endfor %}
        {% set stored_checks = run_query("select count(*) from pg_constraint where contype = 'c' and conrelid = '"
                                         ~ relation ~ "'::regclass").columns[0].values()[0] %}
        {% if (node.columns and stored | sort != node.columns.keys() | list | sort) or missing
              or stored_checks < checks | length %}
            {% do log('rebuilding ' ~ relation ~ ' in full: its columns, indexes or checks changed', info=true) %}
            {% do adapter.drop_relation(relation) %}
        {% endif %}
    {% endif %}
{% endfor %}
{% endif %}
{% endmacro %}
