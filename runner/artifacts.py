"""Reading dbt's run_results.json into small typed records."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from runner.partitions import parse_partition_date

# Every status dbt writes, by what it means for the partition.
GOOD_STATUSES = {"success", "pass", "warn", "no-op"}
BAD_STATUSES = {"error", "fail", "runtime error", "skipped", "partial success", "interrupted", "running"}


class ArtifactError(Exception):
    """A run_results.json that cannot be read or names no partition."""


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    resource_type: str
    status: str
    message: str | None
    failures: int | None
    execution_time: float
    started_at: datetime | None
    completed_at: datetime | None
    relation_name: str | None
    compiled_code: str | None

    @property
    def ok(self) -> bool:
        return self.status in GOOD_STATUSES


@dataclass(frozen=True)
class RunResults:
    invocation_id: str
    command: str
    partition_dates: list[date]
    generated_at: datetime
    nodes: list[NodeResult]
    target: str | None = None  # as named on the command line; None: the profile's default
    source_dir: str | None = None  # the folder of the daily files it read (its source_dir var), if it said

    @property
    def ok(self) -> bool:
        return all(node.ok for node in self.nodes)

    @property
    def started_at(self) -> datetime:
        """When the invocation began its work (UTC): its first node's start."""
        return min((node.started_at for node in self.nodes if node.started_at), default=self.generated_at)

    def counts(self) -> dict[str, int]:
        """How many nodes ended in each status."""
        found: dict[str, int] = {}
        for node in self.nodes:
            found[node.status] = found.get(node.status, 0) + 1
        return found


# Lines that only say where dbt was when it failed (the node is named already), and the wrapper
# around the project's own SQL functions' errors (runner/duckdb_plugin.py).
WHERE_DBT_WAS = re.compile(r"^(Compilation|Runtime|Database) Error in \w+ \w+ \([^)]*\)$")
UDF_WRAPPER = re.compile(r"(Invalid Input Error: )?Python exception occurred while executing the UDF: \w+: ")
# A Spark Thrift server wraps each error in its own exception, with the cause's error class again.
THRIFT_WRAPPER = re.compile(r"^org\.apache\.hive\.service\.cli\.HiveSQLException: Error running query: (\[[A-Z_.]+\] )?")
JAVA_FRAME = re.compile(r"^(at [\w$.<>/]+\(.*\)|\.\.\. \d+ more)$")
# A message may quote a file's line (DuckDB's CSV errors do): never more than this of it.
MAX_MESSAGE = 400


def one_line(message: str | None) -> str | None:
    """dbt and DuckDB messages span lines; keep what names the problem, on one line."""
    if not message:
        return message
    kept = []
    for line in message.splitlines():
        line = THRIFT_WRAPPER.sub("", UDF_WRAPPER.sub("", line.strip()))
        if not line or line.startswith(("LINE ", "^", "compiled code at", ">")) or set(line) <= {"^", " "} or WHERE_DBT_WAS.match(line):
            continue
        if line.startswith(("Possible fixes", "JVM stacktrace:", "Driver stacktrace:")):
            break
        # Spark: the JVM stack, and the cause again (a Thrift server repeats it as "Caused by: ...")
        if JAVA_FRAME.match(line) or any(line.removeprefix("Caused by: ") in earlier for earlier in kept):
            continue
        kept.append(line)
    file_line = re.search(r"^\s*file = (.+)$", message, re.MULTILINE)
    if file_line and not any(file_line.group(1) in line for line in kept):
        kept.append(f"file {file_line.group(1).strip()}")
    return shortened(" | ".join(kept))


CUT = re.compile(r"(.*)\.\.\. \((\d+) more characters\)", re.DOTALL)


def shortened(text: str, limit: int = MAX_MESSAGE) -> str:
    """At most `limit` characters, the note saying how many were cut included. A text cut before
    (then named by its node) is cut again from its start, its note counting from the whole."""
    if len(text) <= limit:
        return text
    before = CUT.fullmatch(text)
    body, more = (before[1], int(before[2])) if before else (text, 0)
    whole = len(body) + more
    kept = limit - len(f"... ({whole} more characters)")
    kept += len(str(whole)) - len(str(whole - kept))  # the count may have fewer digits than the whole
    return f"{body[:kept]}... ({whole - kept} more characters)"


def _timestamp(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None) if text else None


def _node(raw: dict) -> NodeResult:
    timing = {step["name"]: step for step in raw.get("timing") or []}
    first = timing.get("compile") or timing.get("execute") or {}
    last = timing.get("execute") or first
    return NodeResult(
        unique_id=raw["unique_id"],
        resource_type=raw["unique_id"].split(".", 1)[0],
        status=raw["status"],
        message=one_line(raw.get("message")),
        failures=raw.get("failures"),
        execution_time=float(raw.get("execution_time") or 0.0),
        started_at=_timestamp(first.get("started_at")),
        completed_at=_timestamp(last.get("completed_at")),
        relation_name=raw.get("relation_name"),
        compiled_code=raw.get("compiled_code"),
    )


def partition_dates_of(dbt_vars: dict) -> list[date]:
    """The partitions an invocation loaded, from its --vars (partition_date or partition_dates)."""
    values = dbt_vars.get("partition_dates") or ([dbt_vars["partition_date"]] if dbt_vars.get("partition_date") else [])
    return sorted({parse_partition_date(str(value)) for value in values})


def read_run_results(path: Path) -> RunResults:
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise ArtifactError(f"{path}: no such file") from None
    return parse_run_results(text, str(path))


def parse_run_results(text: str, origin: str) -> RunResults:
    """A run_results.json document (from a file, or as a hand run left it in the warehouse)."""
    try:
        raw = json.loads(text)
        metadata, args = raw["metadata"], raw.get("args") or {}
        return RunResults(
            invocation_id=metadata["invocation_id"],
            command=args.get("which", "unknown"),
            partition_dates=partition_dates_of(args.get("vars") or {}),
            generated_at=_timestamp(metadata["generated_at"]),
            # The project's hooks (operations) are no partition's nodes.
            nodes=[_node(result) for result in raw["results"] if not result["unique_id"].startswith("operation.")],
            target=args.get("target"),
            source_dir=(args.get("vars") or {}).get("source_dir"),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ArtifactError(f"{origin}: not a dbt run_results.json ({error})") from None


def node_name(unique_id: str) -> str:
    """model.pkg.NAME, test.pkg.NAME.hash, seed.pkg.NAME: the name people know."""
    parts = unique_id.split(".")
    return parts[2] if len(parts) > 2 else unique_id
