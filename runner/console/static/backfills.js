// A backfill's page: Cancel stops the console's running backfill as Ctrl-C would (a POST with the
// console's token); the page's board (console.js) then shows it interrupted.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="console-token"]');
  var message = document.getElementById("cancel-message");
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.cancel-backfill");
    if (!button) { return; }
    button.disabled = true;
    message.textContent = "Cancelling (SIGTERM to the runner)\u2026";
    fetch(button.dataset.url, {method: "POST", headers: {"X-Console-Token": meta ? meta.content : ""}})
      .then(function (response) { return response.json(); })
      .then(function (data) {
        message.textContent = data.error || "Cancelled: the backfill stopped and is recorded as interrupted.";
        message.className = data.error ? "error" : "";
      })
      .catch(function (error) { message.textContent = "The console did not answer: " + error; message.className = "error"; });
  });
}());
