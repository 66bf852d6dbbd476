// The live console: fetches the board again whenever the console's change cursor moves, and
// launches backfills (from the overview's form, or a partition page's "Load again").
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="console-token"]');
  var token = meta ? meta.content : "";
  var cursorMeta = document.querySelector('meta[name="console-cursor"]');
  var cursor = cursorMeta ? cursorMeta.content : null;  // as of just before this page was read
  var board = document.getElementById("board");
  var POLL = 500;  // ms between two looks at /changes: a few stat calls on the console's side

  function post(url, body) {
    return fetch(url, {method: "POST", headers: {"Content-Type": "application/json", "X-Console-Token": token},
                       body: JSON.stringify(body)})
      .then(function (response) { return response.json().then(function (data) { data.httpStatus = response.status; return data; }); });
  }

  // Swap the board only when it changed, keeping which runs were opened. One fetch at a time, and
  // one more if asked again while it ran; the cursor becomes the one the fragment was read at.
  var last = board ? board.innerHTML : "";
  var fetching = null, again = false;
  function refresh() {
    if (fetching) { again = true; return fetching; }
    fetching = fetch(board.dataset.refresh + window.location.search, {headers: {"Accept": "text/html"}}).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      var read = response.headers.get("X-Console-Cursor");
      return response.text().then(function (html) {
        if (html !== last) {
          var open = Array.prototype.map.call(board.querySelectorAll('.toggle[aria-expanded="true"]'),
            function (button) { return button.closest("tbody").dataset.invocation; });
          board.innerHTML = last = html;
          board.querySelectorAll("tbody.run").forEach(function (run) {
            setOpen(run.querySelector(".toggle"), open.indexOf(run.dataset.invocation) >= 0);
          });
        }
        if (read) { cursor = read; }
      });
    }).catch(function () { /* the console stopped or restarts: the next poll tries again */ })
      .then(function () {
        fetching = null;
        if (again) { again = false; return refresh(); }
      });
    return fetching;
  }

  // The backfill this page launched: its banner follows the job's events to its summary.
  var launched = null;
  var follow = function () {};
  function poll() {
    fetch("/changes?since=" + encodeURIComponent(cursor), {headers: {"Accept": "application/json"}}).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (data) {
      follow(data.job);
      if (data.cursor !== cursor) { return refresh(); }
    }).catch(function () { /* the console stopped or restarts: try again */ })
      .then(function () { window.setTimeout(poll, POLL); });
  }
  if (board && cursor !== null) { window.setTimeout(poll, POLL); }

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

  // The overview's backfill form, or a partition page's "Load again" (that one day, whatever its state).
  var form = document.getElementById("backfill") || document.getElementById("load-again");
  if (!form) { return; }
  var message = document.getElementById("launch-message");
  var answer = document.createElement("span"), banner = document.createElement("span");
  answer.className = "answer";
  banner.className = "banner";
  message.append(answer, " ", banner);
  var planBox = document.getElementById("plan");
  var startButton = document.getElementById("start-button");
  function options() {
    if (form.id === "load-again") {
      return {start: form.dataset.start, end: form.dataset.end, only: form.dataset.only};
    }
    var only = Array.prototype.map.call(form.querySelectorAll('input[name="only"]:checked'), function (box) { return box.value; });
    var chosen = {start: form.start.value, end: form.end.value, only: only.join(","), chunk_size: form.chunk_size.value};
    ["chunk_mb", "retries"].forEach(function (name) {  // empty or absent: the CLI's default
      if (form.elements[name]) { chosen[name] = form.elements[name].value; }
    });
    return chosen;
  }
  // The answer to this page's last request (a plan, a refusal), beside the banner of its backfill.
  function say(text, isError) { answer.textContent = text; answer.className = isError ? "answer error" : "answer"; }
  follow = function (job) {
    if (!job || job.pid !== launched) { return; }
    banner.textContent = job.banner;
    banner.className = "banner" + (job.ended ? (job.exit_code === 0 ? " ok" : " error") : "");
    if (job.ended) { launched = null; }
  };
  form.addEventListener("input", function () { startButton.disabled = true; planBox.textContent = ""; });
  var planned = null;  // the options of the plan shown: Start launches exactly those

  document.getElementById("plan-button").addEventListener("click", function () {
    say("Planning (as runner backfill --dry-run)\u2026", false);
    startButton.disabled = true;
    planned = options();
    post("/api/plan", planned).then(function (data) {
      if (data.error) { say(data.error, true); return; }
      planBox.textContent = "";
      var table = document.createElement("table");
      data.plan.forEach(function (item) {
        var row = table.insertRow();
        [item.partition_date, item.state, item.reason].forEach(function (text) { row.insertCell().textContent = text; });
      });
      planBox.appendChild(table);
      say(data.plan.length ? data.plan.length + " partitions would run in " + data.invocations + " dbt invocation(s) (dry run: nothing changed)"
                           : "Nothing would run (dry run: nothing changed).", false);
      startButton.disabled = data.plan.length === 0;
    }).catch(function (error) { say("The console did not answer: " + error, true); });
  });

  startButton.addEventListener("click", function () {
    startButton.disabled = true;
    post("/api/backfill", planned || options()).then(function (data) {
      if (data.error) { say(data.error, true); return; }
      say("", false);
      launched = data.job.pid;
      follow({pid: launched, banner: data.job.banner, ended: false});
      if (board) { refresh(); }  // its planned partitions show queued now, not at the next change
      startButton.disabled = false;  // a second launch is the server's to refuse, with its reason
    }).catch(function (error) { say("The console did not answer: " + error, true); });
  });
}());
