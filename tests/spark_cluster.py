"""A local Spark standalone cluster with a Thrift server, started by the repository's own scripts
(scripts/cluster-start, scripts/cluster-stop) for the tests of the cluster target."""

from __future__ import annotations

import os
import socket
import subprocess
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT = 600  # seconds: the script waits up to CLUSTER_START_TIMEOUT, this is the backstop


def free_port() -> int:
    """A port nothing listens on now, on the loopback interface (other test runs share the machine)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ClusterError(Exception):
    """The cluster did not start or stop; the message ends with the script's output."""


class Cluster:
    """One local cluster in `folder`: its Thrift server on a free port, the master on any free one."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.thrift_port = free_port()
        self.env = {
            **os.environ,
            "CLUSTER_DIR": str(folder),
            "CLUSTER_THRIFT_PORT": str(self.thrift_port),
            "CLUSTER_MASTER_PORT": "0",
            "CLUSTER_MASTER_WEBUI_PORT": "0",
            "CLUSTER_WORKER_PORT": "0",
            "CLUSTER_WORKER_WEBUI_PORT": "0",
        }

    def _script(self, name: str) -> str:
        done = subprocess.run([str(REPO / "scripts" / name)], env=self.env, capture_output=True, text=True,
                              timeout=START_TIMEOUT)
        if done.returncode != 0:
            raise ClusterError(f"scripts/{name} exited {done.returncode}: {done.stdout}{done.stderr}")
        return done.stdout

    def start(self) -> str:
        return self._script("cluster-start")

    def stop(self) -> str:
        return self._script("cluster-stop")

    def is_up(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.thrift_port), timeout=1).close()
        except OSError:
            return False
        return True

    def ensure_up(self) -> None:
        if not self.is_up():
            self.start()

    def pids(self) -> dict[str, int]:
        """The processes the start script wrote down, by part."""
        return {path.stem: int(path.read_text()) for path in (self.folder / "run").glob("*.pid")}

    def sql(self, sql: str) -> list[tuple]:
        """Rows through the Thrift server, as dbt reads them (dates as dates), sorted."""
        from pyhive import hive

        connection = hive.connect(host="127.0.0.1", port=self.thrift_port)
        try:
            cursor = connection.cursor()
            cursor.execute(sql)
            dates = [index for index, column in enumerate(cursor.description) if column[1] == "DATE_TYPE"]
            rows = []
            for row in cursor.fetchall():
                row = list(row)
                for index in dates:
                    row[index] = None if row[index] is None else date.fromisoformat(row[index])
                rows.append(tuple(row))
            return sorted(rows)
        finally:
            connection.close()
