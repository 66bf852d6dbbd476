"""The commands that show the partitions and the project and load nothing: status, history,
backfills, report, docs and ui (runner/cli.py adds them to the `runner` group)."""

from __future__ import annotations

import json
import sys

import click

from runner import backfill_records
from runner.cli_parts import expected_errors, open_project, resolve_range
from runner.dbt import Dbt
from runner.ledger import Ledger
from runner.options import DATE, in_an_existing_folder, range_options, source_dir_option
from runner.planning import gather
from runner.render import health_bar, history_lines, status_table
from runner.render_json import history_json, status_json
from runner.state_table import counts_line


@click.command()
@range_options
@source_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@click.option("--model", metavar="MODEL", default=None,
              help="Only this model's own result per partition: one of the project's partitioned models.")
@click.option("--verify", is_flag=True,
              help="Hash every partition's rows again and compare them with what was loaded (done anyway when "
                   "something other than the runner wrote to the warehouse since the runner's last write).")
@click.pass_context
@expected_errors
def status(ctx, start, end, source_dir, as_json, model, verify):
    """Show each partition's state: materialized, failed, stale, missing, running, awaiting or late, with a health bar."""
    project = open_project(ctx, source_dir)
    if model is not None and model not in project.models.partitioned:  # the project's own models, known only now
        raise click.BadParameter(f"{model!r} is not one of {', '.join(map(repr, project.models.partitioned))}.",
                                 param_hint="'--model'")
    dates = resolve_range(project, start, end)
    evidence = gather(project, Dbt(project), dates, verify)
    statuses = evidence.statuses(dates, model)
    if not evidence.holdings.checked:  # on stderr: the JSON on stdout stays one document
        click.echo(f"note: {evidence.holdings.unchecked}; the states are the ledger's", err=True)
    if as_json:
        click.echo(status_json(statuses))
    else:
        click.echo(health_bar(statuses, colour=sys.stdout.isatty()))
        click.echo(status_table(statuses))


@click.command()
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
        click.echo("\n".join(history_lines(runs, project.models.primary)))


BACKFILL_COLUMNS = ("backfill_id", "started_at", "by", "range", "status", "requested", "done", "failed")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@click.pass_context
@expected_errors
def backfills(ctx, as_json):
    """Every backfill recorded (by `runner backfill`, the console, `runner watch`'s loads, `runner run`),
    newest first: who started it, its range, its status, and its partitions requested, done and failed."""
    records = backfill_records.read(Ledger(open_project(ctx).ledger_path))
    if as_json:
        click.echo(json.dumps([record.as_dict() for record in records]))
        return
    rows = [[record.backfill_id[:8], f"{record.started_at:%Y-%m-%d %H:%M:%S}", record.started_by,
             f"{record.range_start} to {record.range_end}", record.status, str(record.requested),
             str(record.loaded or 0), str(record.failed or 0)] for record in records]
    if not rows:
        click.echo("no backfills recorded")
        return
    widths = [max(len(name), *(len(row[i]) for row in rows)) for i, name in enumerate(BACKFILL_COLUMNS)]
    for row in [list(BACKFILL_COLUMNS), *rows]:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@click.command()
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


@click.command()
@range_options
@source_dir_option
@click.option("--out", type=click.Path(dir_okay=False), default=None, callback=in_an_existing_folder,
              help="The HTML file to write, in an existing folder (default: target/partition_status.html in the project).")
@click.pass_context
@expected_errors
def report(ctx, start, end, source_dir, out):
    """Write the partition status page: the console's overview as one self-contained HTML file, fetching nothing."""
    from runner.console import report  # the page's templates: only for this command

    project = open_project(ctx, source_dir)
    path, heatmaps = report.write(project, resolve_range(project, start, end), out)
    summary = counts_line([status.state for status in heatmaps[0].statuses])  # as status counts them
    click.echo(f"wrote {path}: {len(heatmaps[0].statuses)} partitions x {len(heatmaps) - 1} models; {summary}")


@click.command()
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
