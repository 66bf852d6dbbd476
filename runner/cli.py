"""The `runner` command line: a thin Click layer over the modules that do the work."""

from __future__ import annotations

import json
import sys
from datetime import date

import click

from runner import backfills
from runner.backfills import LoadSettings
from runner.cli_parts import (
    DATE,
    LATEST,
    PartitionDate,
    chunk_options,
    defined_bounds,
    expected_errors,
    open_project,
    output_options,
    prepare,
    range_options,
    resolve_range,
    retries_option,
    selection_option,
    source_dir_option,
    valid_target,
)
from runner.dbt import Dbt
from runner.ledger import Ledger
from runner.loading import invocations
from runner.planning import DEFAULT_SELECTION, gather, plan
from runner.project import PARTITIONED_MODELS
from runner.recording import record_hand_run
from runner.render import (
    Progress,
    backfill_summary,
    dry_run_output,
    health_bar,
    history_json,
    history_lines,
    nothing_to_do_output,
    status_json,
    status_table,
    watch_line,
)
from runner.states import AWAITING, RUNNING, STATES
from runner.warehouse import Holdings
from runner.watching import Watcher, WatchSettings, one_watcher


@click.group()
@click.option("--project-dir", type=click.Path(file_okay=False), default=None,
              help="The dbt project (default: the working directory, else this repository).")
@click.option("--target", envvar="DBT_TARGET", default=None, callback=lambda ctx, param, value: valid_target(value),
              help="The dbt target of profiles.yml (default: DBT_TARGET, else the profile's).")
@click.pass_context
def cli(ctx, project_dir, target):
    """Load daily partitions with dbt, backfill ranges and track every partition."""
    ctx.obj = {"project_dir": project_dir, "target": target}


@cli.command()
@click.argument("partition", type=PartitionDate(latest=True))
@source_dir_option
@retries_option
@output_options
@click.pass_context
@expected_errors
def run(ctx, partition, source_dir, retries, quiet, as_json):
    """Load one partition (its dbt models and tests), whatever its state, and record the result.
    PARTITION is a date, or `latest`: the last defined partition (for a daily schedule)."""
    project = open_project(ctx, source_dir)
    partition = defined_bounds(project)[1] if partition == LATEST else partition
    path = project.source_file(partition)
    if not path.exists():  # nothing to load, and nothing to record: the partition awaits its file
        raise click.ClickException(f"{partition}: no file at {path} (the partition awaits it)")
    ctx.exit(load_and_report(prepare(project), [partition], LoadSettings(retries=retries), quiet, as_json))


@cli.command()
@range_options
@source_dir_option
@click.option("--only", "selection", default=",".join(DEFAULT_SELECTION), show_default=True, callback=selection_option,
              help="States to load, comma-separated: missing, failed, stale, materialized, or all.")
@click.option("--last", type=click.IntRange(min=1), default=None,
              help="The last N partitions up to --end (default: the defined end); instead of --start.")
@click.option("--dry-run", is_flag=True, help="Print the plan (each partition and why it would run); change nothing.")
@chunk_options
@retries_option
@click.option("--fail-fast", is_flag=True, help="Stop at the first failed partition.")
@output_options
@click.pass_context
@expected_errors
def backfill(ctx, start, end, last, source_dir, selection, dry_run, chunk_size, chunk_bytes, retries, fail_fast, quiet,
             as_json):
    """Load the partitions from --start to --end (inclusive) that need it, in order, going on past failures."""
    project = open_project(ctx, source_dir)
    dates = resolve_range(project, start, end, last)
    # Planning needs no dbt (the code's fingerprints are remembered), so a backfill with nothing to
    # do costs what status costs. Spark is started first: only its session can check its warehouse.
    dbt = prepare(project) if project.target_type != "duckdb" else Dbt(project)
    evidence = gather(project, dbt, dates)
    statuses = evidence.statuses(dates)
    planned = plan(statuses, selection)
    awaiting = [status.partition_date for status in statuses if status.state == AWAITING]
    if dry_run:
        chunks = invocations(project, [item.partition_date for item in planned], chunk_size, chunk_bytes)
        click.echo(dry_run_output(planned, chunks, len(dates), awaiting, as_json))
        return
    if not planned:
        click.echo(nothing_to_do_output(dates, selection, awaiting, as_json))
        return
    if not dbt.parsed:
        dbt = prepare(project)
    settings = LoadSettings(chunk_size, chunk_bytes, retries, fail_fast)
    ctx.exit(load_and_report(dbt, [item.partition_date for item in planned], settings, quiet, as_json, awaiting,
                             evidence.holdings))


@cli.command()
@source_dir_option
@click.option("--settle", type=click.FloatRange(min=0), default=2.0, show_default=True,
              help="Seconds a file must stay unchanged before it loads; a file renamed into place loads at once.")
@click.option("--poll", type=click.FloatRange(min=0.05), default=None,
              help="Look at the folder every POLL seconds instead of waiting for file events (network folders).")
@click.option("--once", is_flag=True, help="Catch up and exit, with backfill's exit codes (for cron).")
@chunk_options
@retries_option
@click.option("--retry-after", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Seconds before a load that failed on a lock or an I/O error (after its --retries) is tried again.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line for each load and event.")
@click.pass_context
@expected_errors
def watch(ctx, source_dir, settle, poll, once, chunk_size, chunk_bytes, retries, retry_after, as_json):
    """Load each daily file as it lands in the source folder, after catching up (a sensor)."""
    project = open_project(ctx, source_dir)
    defined_bounds(project)  # a bad partition setting is a usage error before anything starts
    if not once and not project.source_dir.is_dir():
        raise click.UsageError(f"the source folder {project.source_dir} does not exist: create it, or give --source-dir")

    def report(event):
        line, to_stderr = (json.dumps(event), False) if as_json else watch_line(event)
        click.echo(line, err=to_stderr)

    with one_watcher(project):
        # Kept parsed for as long as it watches; --once parses only when there is something to load.
        dbt = prepare(project) if not once or project.target_type != "duckdb" else Dbt(project)
        watcher = Watcher(dbt, LoadSettings(chunk_size, chunk_bytes, retries), WatchSettings(settle, poll, retry_after), report)
        code = watcher.once() if once else watcher.run()
    ctx.exit(code)


@cli.command()
@range_options
@source_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@click.option("--model", type=click.Choice(PARTITIONED_MODELS), default=None, help="Only this model's own result per partition.")
@click.pass_context
@expected_errors
def status(ctx, start, end, source_dir, as_json, model):
    """Show each partition's state: materialized, failed, stale, missing or running, with a health bar."""
    project = open_project(ctx, source_dir)
    dates = resolve_range(project, start, end)
    evidence = gather(project, Dbt(project), dates)
    statuses = evidence.statuses(dates, model)
    if not evidence.holdings.checked:  # on stderr: the JSON on stdout stays one document
        click.echo(f"note: {evidence.holdings.unchecked}; the states are the ledger's", err=True)
    if as_json:
        click.echo(status_json(statuses))
    else:
        click.echo(health_bar(statuses, colour=sys.stdout.isatty()))
        click.echo(status_table(statuses))


@cli.command()
@click.argument("partition", type=DATE)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of lines.")
@click.pass_context
@expected_errors
def history(ctx, partition, as_json):
    """Every recorded run of one partition, newest first, with each node's status."""
    project = open_project(ctx)
    runs = Ledger(project.ledger_path).runs(partition, partition)
    if as_json:
        click.echo(history_json(runs))
    elif not runs:
        click.echo(f"{partition}: never run")
    else:
        click.echo("\n".join(history_lines(runs)))


@cli.command()
@click.argument("run_results", type=click.Path(dir_okay=False), required=False)
@source_dir_option
@click.pass_context
@expected_errors
def record(ctx, run_results, source_dir):
    """Record a dbt invocation made by hand (default: target/run_results.json) in the ledger."""
    project = open_project(ctx, source_dir)
    path = run_results or project.hand_run_results
    count = record_hand_run(Dbt(project), Ledger(project.ledger_path), path)
    click.echo(f"recorded {count} partition(s) from {path}" if count else f"already recorded: {path}")


@cli.command()
@click.option("--serve", is_flag=True, help="Then serve the site at http://127.0.0.1:PORT/ (this machine only) until Ctrl-C.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="The port for --serve (0: any free port).")
@click.pass_context
@expected_errors
def docs(ctx, serve, port):
    """Generate the docs site (lineage, every description) and a single HTML file to share; no partition needed."""
    from runner import docs_site

    site = docs_site.generate(open_project(ctx))
    click.echo(f"docs site: {site.index}")
    click.echo(f"single file to share (opens offline): {site.static_index}")
    if serve:
        server = docs_site.open_server(site, port)
        click.echo(f"serving {docs_site.server_url(server)} (Ctrl-C to stop)")
        docs_site.serve_until_interrupted(server)
        click.echo("stopped")


@cli.command()
@range_options
@source_dir_option
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="The HTML file to write (default: target/partition_status.html in the project).")
@click.pass_context
@expected_errors
def report(ctx, start, end, source_dir, out):
    """Write the partition status page: the console's overview as one self-contained HTML file, fetching nothing."""
    from runner import status_page

    project = open_project(ctx, source_dir)
    path, heatmaps = status_page.write(project, resolve_range(project, start, end), out)
    counts = heatmaps[0].counts()
    summary = ", ".join(f"{counts.get(state, 0)} {state}" for state in STATES
                        if counts.get(state) or state not in (RUNNING, AWAITING))  # as status counts them
    click.echo(f"wrote {path}: {len(heatmaps[0].statuses)} partitions x {len(heatmaps) - 1} models; {summary}")


@cli.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8580, show_default=True, help="The port (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on; anything but loopback lets other machines start backfills.")
@source_dir_option
@click.pass_context
@expected_errors
def ui(ctx, port, host, source_dir):
    """Serve the partition console: every partition live, its runs and logs, and backfills to launch."""
    from runner.console import server

    project = open_project(ctx, source_dir)
    sock = server.bind(host, port)
    if not server.is_loopback(host):
        click.echo(f"Warning: --host {host}: the console is reachable from other machines, and anyone who reaches it "
                   "can read the ledger and the logs and start backfills", err=True)
    click.echo(f"serving {server.url(sock)} (Ctrl-C to stop)")
    server.serve(project, sock)
    click.echo("stopped")


def load_and_report(dbt: Dbt, dates: list[date], settings: LoadSettings, quiet: bool = False, as_json: bool = False,
                    awaiting: list[date] | None = None, looked: Holdings | None = None) -> int:
    """Backfill the dates with progress, then print the summary. Returns the exit code."""
    progress = Progress(len(dates), enabled=not (quiet or as_json) and sys.stdout.isatty(), lines=not (quiet or as_json))
    with progress:
        result = backfills.backfill(dbt, dates, settings, progress.advance, looked)
    for line, to_stderr in backfill_summary(result, awaiting or [], as_json):
        click.echo(line, err=to_stderr)
    return result.exit_code


def main():
    cli(prog_name="runner")
