"""runner docs: the dbt docs site, complete and offline, opened in headless Chromium; --serve on localhost only."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from urllib.error import HTTPError

import pytest
from browser import artifact, chromium
from conftest import ctrl_c_reaches_the_child

from runner.docs_site import DocsError, DocsSite, open_server

RAW = "model.daily_loads.raw_partition_data"
LINEAGE = [
    ("source.daily_loads.daily_files.daily_quotes", "model.daily_loads.stg_daily_files__quotes"),
    ("model.daily_loads.stg_daily_files__quotes", RAW),
    (RAW, "model.daily_loads.daily_summary"),
    ("model.daily_loads.daily_summary", "exposure.daily_loads.quote_analytics"),
]
GRAPH_NODES = """() => {
    const graph = angular.element(document.body).injector().get('graph');
    const cy = graph.graph_element;
    return cy ? cy.nodes().map(node => node.data('unique_id')) : [];
}"""
GRAPH_EDGES = """() => angular.element(document.body).injector().get('graph').graph_element
    .edges().map(edge => [edge.data('source'), edge.data('target')])"""


def test_docs_help(project):
    result = project.runner("docs", "--help", catch=False)
    assert result.exit_code == 0
    assert " ".join(result.output.split("\nOptions:\n", 1)[1].split()) == (
        "--serve Then serve the site at http://127.0.0.1:PORT/ (this machine only) until Ctrl-C. "
        "--port INTEGER RANGE The port for --serve (0: any free port). [default: 8080; 0<=x<=65535] "  # the README's default
        "--help Show this message and exit.")


def undescribed(manifest: dict) -> list[str]:
    """Every project node, column and macro without a description."""
    missing = []
    nodes = [*manifest["nodes"].values(), *manifest["sources"].values(), *manifest["exposures"].values()]
    for node in nodes:
        if node["package_name"] != "daily_loads" or node["resource_type"] not in ("model", "seed", "source", "exposure"):
            continue
        if not node["description"].strip():
            missing.append(node["unique_id"])
        missing += [f"{node['unique_id']}.{name}" for name, column in node.get("columns", {}).items() if not column["description"].strip()]
    missing += [
        macro["unique_id"] for macro in manifest["macros"].values()
        if macro["package_name"] == "daily_loads" and not macro["description"].strip()
    ]
    return missing


def test_docs_site_describes_everything_and_shows_the_lineage_offline(project):
    # A fresh project: nothing loaded, no partition_date.
    result = project.runner("docs", catch=False)
    assert result.exit_code == 0, result.output
    folder = project.root / "target" / "runner" / "docs"
    assert result.output == (
        f"docs site: {folder / 'index.html'}\n"
        f"single file to share (opens offline): {folder / 'static_index.html'}\n"
    )
    site = DocsSite(folder)
    manifest = json.loads(site.manifest.read_text())
    assert undescribed(manifest) == []
    ledger = manifest["sources"]["source.daily_loads.runner_ledger.partition_runs"]
    assert ledger["source_description"].startswith("The runner's per-partition ledger")
    assert manifest["metadata"]["send_anonymous_usage_stats"] is False  # so the page loads no tracker
    for parent, child in LINEAGE:
        assert parent in manifest["parent_map"][child]

    requests = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 700})
        page.on("request", lambda request: requests.append(request.url))
        page.goto(site.static_index.as_uri())
        page.get_by_role("heading", name="Daily partitions with dbt and DuckDB").wait_for()

        # Open raw_partition_data the way a reader does: search for it, pick the model.
        page.locator("#search").fill("raw_partition_data")
        results = page.locator("[ng-repeat*='result in']")
        results.filter(has=page.locator("h4", has_text=re.compile(r"^\s*raw_partition_data\s+model\s*$"))).click()
        page.wait_for_url(re.compile(re.escape(f"#!/model/{RAW}")))
        # Its description and its columns' descriptions render (markdown from the doc blocks).
        main = page.locator("[ui-view]").filter(has_text="Every loaded row, partitioned by").last
        main.get_by_text("Every loaded row, partitioned by partition_date (the file's date).").wait_for()
        assert main.locator("code", has_text="delete+insert").count() >= 1
        main.get_by_text("The partition: the date in the name of the file the row was loaded from").first.wait_for()
        assert "Referenced By" in main.inner_text() and "Depends On" in main.inner_text()

        # Its lineage graph, full screen: the source, the staging model, downstream models, the exposure.
        page.get_by_title("View Lineage Graph").click()
        page.locator("a[ng-click='showExpanded()']").click()
        page.wait_for_function(f"() => ({GRAPH_NODES})().includes('source.daily_loads.daily_files.daily_quotes')")
        nodes = page.evaluate(GRAPH_NODES)
        edges = {tuple(edge) for edge in page.evaluate(GRAPH_EDGES)}
        page.mouse.move(5, 350)  # no tooltip over the graph
        page.screenshot(path=artifact("lineage.png"))

    for parent, child in LINEAGE:
        assert parent in nodes and child in nodes
        assert (parent, child) in edges
    offline = [url for url in requests if not url.startswith(("file:", "data:", "blob:"))]
    assert offline == []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str) -> tuple[int, bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
    try:
        with opener.open(url, timeout=60) as response:
            return response.status, response.read()
    except HTTPError as error:
        return error.code, b""


def test_docs_serve_serves_the_site_on_localhost_only(project):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "runner", "--project-dir", str(project.root), "docs", "--serve", "--port", str(port)],
        cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=ctrl_c_reaches_the_child,
    )
    try:
        lines = []
        for line in process.stdout:  # the runner says when it serves
            lines.append(line)
            if line.startswith("serving"):
                break
        assert lines and lines[-1] == f"serving http://127.0.0.1:{port}/ (Ctrl-C to stop)\n", "".join(lines) + process.stderr.read()

        status, body = fetch(f"http://127.0.0.1:{port}/")
        assert status == 200 and b"<title>dbt Docs</title>" in body
        status, body = fetch(f"http://127.0.0.1:{port}/manifest.json")
        assert status == 200 and RAW in json.loads(body)["nodes"]
        assert fetch(f"http://127.0.0.1:{port}/static_index.html")[0] == 200
        # Only the site: not the invocation's log or compiled SQL, not the project.
        assert fetch(f"http://127.0.0.1:{port}/dbt.log")[0] == 404
        assert fetch(f"http://127.0.0.1:{port}/../../../dbt_project.yml")[0] == 404
        # Bound to 127.0.0.1, not to every address: another loopback address is refused.
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.2", port), timeout=10).close()

        process.send_signal(signal.SIGINT)  # Ctrl-C
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert out == "stopped\n"
    assert "Traceback" not in err


def test_docs_serve_on_a_busy_port_is_one_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(DocsError, match=r"^cannot serve on 127\.0\.0\.1:\d+: Address already in use$"):
            open_server(DocsSite(tmp_path), busy.getsockname()[1])
