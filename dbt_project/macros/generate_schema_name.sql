{#- Models land in exactly the schema they name (staging, marts), not "<target>_<schema>". -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
