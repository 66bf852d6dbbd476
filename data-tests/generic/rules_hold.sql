{# Rows of the model that break a rule, each with the rule it breaks in `broken_rule`: many rules in
   one node and one scan, and a failure that still names its rule (runner/checks.py shows the first
   rows of each rule). `rules`: a rule's name and the condition every row meets. `unique`: a rule's
   name and the columns no two rows repeat all together; both copies of a repeated row are returned.
   Nulls break no condition; in `unique`, a null equals a null. #}
{% test rules_hold(model, rules={}, unique={}) %}
    {%- set branches = [] -%}
    {%- for name, condition in rules.items() -%}
        {%- do branches.append("select checked.*, '" ~ name ~ "' as broken_rule from " ~ model ~ " as checked where not (" ~ condition ~ ")") -%}
    {%- endfor -%}
    {%- for name, columns in unique.items() -%}
        {%- set matched = [] -%}
        {%- for column in columns -%}
            {%- do matched.append("checked." ~ column ~ " is not distinct from repeated." ~ column) -%}
        {%- endfor -%}
        {%- do branches.append(
            "select checked.*, '" ~ name ~ "' as broken_rule from " ~ model ~ " as checked inner join ("
            ~ "select " ~ columns | join(", ") ~ " from " ~ model ~ " group by " ~ columns | join(", ")
            ~ " having count(*) > 1) as repeated on " ~ matched | join(" and ")) -%}
    {%- endfor -%}
    {{ branches | join("\nunion all\n") }}
{% endtest %}
