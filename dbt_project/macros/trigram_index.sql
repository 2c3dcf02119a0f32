{#-
  A trigram GIN index on each of `columns` of `relation`, so `ILIKE '%text%'` reads the index, not
  every row (the API's news search, azak_api/news/queries.py). A post-hook; it creates the pg_trgm
  extension first (trusted: the database's owner may). A server without pg_trgm (the embedded
  pgserver build ships none) gets no index and a notice: the search still works, by a scan.
  The index is looked up by what it indexes, not by name: after a full refresh the backup table dbt
  drops last still holds the old one's name.
-#}
{% macro trigram_index(relation, columns) %}
do $trigram$
declare
    trgm_schema name;
begin
    if not exists (select from pg_available_extensions where name = 'pg_trgm') then
        raise notice 'pg_trgm is not available on this server: no trigram index on %', '{{ relation }}';
        return;
    end if;
    create extension if not exists pg_trgm;
    select n.nspname into trgm_schema
    from pg_extension as e join pg_namespace as n on n.oid = e.extnamespace where e.extname = 'pg_trgm';
    {%- for column in columns %}
    if not exists (select from pg_indexes
                   where schemaname = '{{ relation.schema }}' and tablename = '{{ relation.identifier }}'
                     and indexdef like '% USING gin ({{ column }} %gin_trgm_ops)') then
        execute format('create index on %s using gin ({{ column }} %I.gin_trgm_ops)', '{{ relation }}', trgm_schema);
    end if;
    {%- endfor %}
end
$trigram$
{% endmacro %}
