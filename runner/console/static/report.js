// The static page (runner report): hovering a cell shows its last run, a click pins it. No fetches.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var models = JSON.parse(document.getElementById("report-models").textContent);
  var panel = document.getElementById("details");
  var list = panel.querySelector("dl");
  var hint = panel.querySelector(".hint");
  var pinned = null;

  function text(value, unit) { return value === null || value === undefined ? "-" : String(value) + (unit || ""); }

  function show(cell) {
    var heatmap = Number(cell.closest(".heatmap").dataset.h);
    var status = data[heatmap][Number(cell.dataset.i)];
    var fields = {
      model: models[heatmap], partition_date: status.partition_date, state: status.drawn,
      last_run_at: status.last_run_at ? status.last_run_at.replace("T", " ") : "never",
      rows: text(status.rows), duration_seconds: text(status.duration_seconds, " s"),
      message: text(status.message), invocation_id: text(status.invocation_id)
    };
    Object.keys(fields).forEach(function (name) { list.querySelector('[data-field="' + name + '"]').textContent = fields[name]; });
    list.querySelector('[data-field="state"]').className = "state s-" + status.drawn;
    panel.dataset.model = cell.closest(".heatmap").dataset.model;
    panel.dataset.date = status.partition_date;
    list.hidden = false;
    hint.hidden = true;
  }
  function unpin() { if (pinned) { pinned.classList.remove("selected"); pinned = null; } }
  function pin(cell) { unpin(); pinned = cell; cell.classList.add("selected"); show(cell); }

  var board = document.getElementById("board");
  board.addEventListener("mouseover", function (event) {
    var cell = event.target.closest(".grid .cell");
    if (cell && !pinned) { show(cell); }
  });
  board.addEventListener("click", function (event) {
    var link = event.target.closest("#failures a[data-date]");
    if (link) {
      event.preventDefault();
      var target = board.querySelector('.heatmap[data-h="0"] .cell[data-date="' + link.dataset.date + '"]');
      pin(target);
      target.scrollIntoView({block: "center"});
      return;
    }
    var cell = event.target.closest(".grid .cell");
    if (!cell) { return; }
    if (cell === pinned) { unpin(); } else { pin(cell); }
  });
  document.addEventListener("keydown", function (event) { if (event.key === "Escape") { unpin(); } });
}());
