// The live console: refreshes the board while anything loads, and launches backfills.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="console-token"]');
  var token = meta ? meta.content : "";
  var board = document.getElementById("board");
  var FAST = 1000, SLOW = 10000;  // ms: while loading, otherwise

  function post(url, body) {
    return fetch(url, {method: "POST", headers: {"Content-Type": "application/json", "X-Console-Token": token},
                       body: JSON.stringify(body)})
      .then(function (response) { return response.json().then(function (data) { data.httpStatus = response.status; return data; }); });
  }

  // Swap the board only when it changed, keeping which runs were opened.
  var last = board ? board.innerHTML : "";
  function refresh() {
    var url = board.dataset.refresh + window.location.search;
    fetch(url, {headers: {"Accept": "text/html"}}).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      board.dataset.live = response.headers.get("X-Console-Live") === "1" ? "1" : "0";
      return response.text();
    }).then(function (html) {
      if (html !== last) {
        var open = Array.prototype.map.call(board.querySelectorAll('.toggle[aria-expanded="true"]'),
          function (button) { return button.closest("tbody").dataset.invocation; });
        board.innerHTML = last = html;
        board.querySelectorAll("tbody.run").forEach(function (run) {
          setOpen(run.querySelector(".toggle"), open.indexOf(run.dataset.invocation) >= 0);
        });
      }
    }).catch(function () { /* the console stopped or restarts: try again later */ })
      .then(schedule);
  }
  function schedule() { window.setTimeout(refresh, board.dataset.live === "1" ? FAST : SLOW); }
  if (board) { schedule(); }

  function setOpen(button, open) {
    if (!button) { return; }
    button.setAttribute("aria-expanded", open ? "true" : "false");
    button.textContent = open ? "\u2212" : "+";
    document.getElementById(button.getAttribute("aria-controls")).hidden = !open;
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.toggle");
    if (button) { setOpen(button, button.getAttribute("aria-expanded") !== "true"); }
  });

  var form = document.getElementById("backfill");
  if (!form) { return; }
  var message = document.getElementById("launch-message");
  var planBox = document.getElementById("plan");
  var startButton = document.getElementById("start-button");
  function options() {
    var only = Array.prototype.map.call(form.querySelectorAll('input[name="only"]:checked'), function (box) { return box.value; });
    var chosen = {start: form.start.value, end: form.end.value, only: only.join(","), chunk_size: form.chunk_size.value};
    ["chunk_mb", "retries"].forEach(function (name) {  // empty or absent: the CLI's default
      if (form.elements[name]) { chosen[name] = form.elements[name].value; }
    });
    return chosen;
  }
  function say(text, isError) { message.textContent = text; message.className = isError ? "error" : ""; }
  form.addEventListener("input", function () { startButton.disabled = true; planBox.textContent = ""; });

  document.getElementById("plan-button").addEventListener("click", function () {
    say("Planning (as runner backfill --dry-run)\u2026", false);
    startButton.disabled = true;
    post("/api/plan", options()).then(function (data) {
      if (data.error) { say(data.error, true); return; }
      planBox.textContent = "";
      var table = document.createElement("table");
      data.plan.forEach(function (item) {
        var row = table.insertRow();
        [item.partition_date, item.state, item.reason].forEach(function (text) { row.insertCell().textContent = text; });
      });
      planBox.appendChild(table);
      say(data.plan.length + " partitions would run in " + data.invocations + " dbt invocation(s) (dry run: nothing changed)", false);
      startButton.disabled = data.plan.length === 0;
    }).catch(function (error) { say("The console did not answer: " + error, true); });
  });

  startButton.addEventListener("click", function () {
    startButton.disabled = true;
    post("/api/backfill", options()).then(function (data) {
      if (data.error) { say(data.error, true); return; }
      say("Backfill started (runner PID " + data.job.pid + ").", false);
      board.dataset.live = "1";
      startButton.disabled = false;  // a second launch is the server's to refuse, with its reason
    }).catch(function (error) { say("The console did not answer: " + error, true); });
  });
}());
