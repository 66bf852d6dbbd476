{# The on-run-end hook: a `dbt run` or `dbt build` of partitions made by hand (not by the runner)
   leaves its results in the warehouse it wrote to, in the shape of run_results.json. The runner
   records them into that warehouse's ledger, each hand run once, with its own times and vars: a run
   against another warehouse never reaches this one's ledger. #}
{% macro remember_hand_run(results) %}
    {{- return(adapter.dispatch('remember_hand_run')(results)) -}}
{% endmacro %}

{#- Spark: no such table; the runner reads the hand run's own target/run_results.json there. -#}
{% macro default__remember_hand_run(results) %}{% endmacro %}

{% macro duckdb__remember_hand_run(results) %}
    {%- if execute and flags.WHICH in ('run', 'build') and not var('runner_invocation', false)
          and (var('partition_date', none) is not none or var('partition_dates', none) is not none) -%}
        {%- set nodes = [] -%}
        {%- for result in results -%}
            {%- set timing = [] -%}
            {%- for step in result.timing -%}
                {%- do timing.append({
                    'name': step.name,
                    'started_at': step.started_at.isoformat() ~ 'Z' if step.started_at else none,
                    'completed_at': step.completed_at.isoformat() ~ 'Z' if step.completed_at else none,
                }) -%}
            {%- endfor -%}
            {%- do nodes.append({
                'unique_id': result.node.unique_id,
                'status': result.status | string,
                'message': result.message | default(none),
                'failures': result.failures | default(none),
                'execution_time': result.execution_time,
                'timing': timing,
                'relation_name': result.node.relation_name | default(none),
                'compiled_code': result.node.compiled_code | default(none),
            }) -%}
        {%- endfor -%}
        {%- set run_results = {
            'metadata': {'invocation_id': invocation_id, 'generated_at': modules.datetime.datetime.utcnow().isoformat() ~ 'Z'},
            'args': {'which': flags.WHICH, 'target': target.name, 'vars': {
                'partition_date': var('partition_date', none) | string if var('partition_date', none) is not none else none,
                'partition_dates': var('partition_dates', none) | map('string') | list if var('partition_dates', none) is not none else none,
                'source_dir': var('source_dir') | string,
            }},
            'results': nodes,
        } -%}
        create table if not exists main.runner_hand_runs (invocation_id varchar primary key, run_results varchar);
        insert or replace into main.runner_hand_runs values ('{{ invocation_id }}', '{{ tojson(run_results) | replace("'", "''") }}')
    {%- endif -%}
{% endmacro %}
