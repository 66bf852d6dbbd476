// The health bars (one per model over the whole range, a segment per run of days in one state):
// drag across a bar, or press Enter on one segment and then on another, to fill the backfill
// form's start and end. Arrow keys move between a bar's segments, Escape cancels. No fetches.
(function () {
  "use strict";
  var DAY = 86400000;
  var board = document.getElementById("board");
  if (!board) { return; }

  function parse(text) { var p = text.split("-"); return Date.UTC(+p[0], +p[1] - 1, +p[2]); }
  function format(ms) { return new Date(ms).toISOString().slice(0, 10); }
  function count(start, end) { return Math.round((parse(end) - parse(start)) / DAY) + 1; }
  function plural(n) { return n + (n === 1 ? " day" : " days"); }
  function segments(track) { return Array.prototype.slice.call(track.querySelectorAll(".seg")); }
  function trackOf(model) {
    var row = board.querySelector('.health-row[data-model="' + model + '"]');
    return row ? row.querySelector(".track") : null;
  }
  function say(text) { var out = document.getElementById("health-pick"); if (out) { out.textContent = text; } }

  // The day under the pointer: the segment it is over, then its share of that segment's width.
  function dayAt(track, x) {
    var all = segments(track);
    for (var i = 0; i < all.length; i++) {
      var rect = all[i].getBoundingClientRect();
      if (x < rect.right || i === all.length - 1) {
        var days = count(all[i].dataset.start, all[i].dataset.end);
        var offset = Math.floor((x - rect.left) / Math.max(rect.width, 1) * days);
        return format(parse(all[i].dataset.start) + Math.min(days - 1, Math.max(0, offset)) * DAY);
      }
    }
    return null;
  }
  // Where a day's left (edge 0) or right (edge 1) side is drawn, from the track's left.
  function xOf(track, day, edge) {
    var left = track.getBoundingClientRect().left;
    var all = segments(track);
    for (var i = 0; i < all.length; i++) {
      var seg = all[i];
      if (seg.dataset.start <= day && day <= seg.dataset.end) {
        var rect = seg.getBoundingClientRect();
        var days = count(seg.dataset.start, seg.dataset.end);
        return rect.left - left + rect.width * (count(seg.dataset.start, day) - 1 + edge) / days;
      }
    }
    return 0;
  }

  var selection = null;  // {model, start, end}: the range chosen, drawn over its bar
  var drag = null;       // {track, anchor, pointer}
  var picked = null;     // {model, start, end}: the segment Enter chose first

  function draw() {
    board.querySelectorAll(".track .selection").forEach(function (box) { box.remove(); });
    board.querySelectorAll(".seg.picked").forEach(function (seg) { seg.classList.remove("picked"); });
    if (picked) {
      var from = trackOf(picked.model);
      var seg = from && from.querySelector('.seg[data-start="' + picked.start + '"]');
      if (seg) { seg.classList.add("picked"); }
    }
    if (!selection) { return; }
    var track = trackOf(selection.model);
    if (!track) { return; }
    var box = document.createElement("div");
    box.className = "selection";
    var x0 = xOf(track, selection.start, 0), x1 = xOf(track, selection.end, 1);
    box.style.left = x0 + "px";
    box.style.width = Math.max(3, x1 - x0) + "px";
    track.appendChild(box);
  }

  function choose(model, a, b, done) {
    var start = a <= b ? a : b, end = a <= b ? b : a;
    selection = {model: model, start: start, end: end};
    draw();
    if (!done) { say("From " + start + " to " + end + " (" + plural(count(start, end)) + ")"); return; }
    var form = document.getElementById("backfill");
    if (form) {
      form.elements.start.value = start;
      form.elements.end.value = end;
      form.dispatchEvent(new Event("input", {bubbles: true}));  // the last plan no longer holds
    }
    say("Backfill dates set: " + start + " to " + end + " (" + plural(count(start, end)) + "). Plan it in the backfill form.");
  }

  board.addEventListener("pointerdown", function (event) {
    var track = event.target.closest(".track");
    if (!track || event.button !== 0) { return; }
    event.preventDefault();  // no text selection, no native drag
    track.setPointerCapture(event.pointerId);
    var day = dayAt(track, event.clientX);
    drag = {track: track, anchor: day, pointer: event.pointerId};
    picked = null;
    choose(track.closest(".health-row").dataset.model, day, day, false);
  });
  board.addEventListener("pointermove", function (event) {
    if (!drag || event.pointerId !== drag.pointer) { return; }
    choose(drag.track.closest(".health-row").dataset.model, drag.anchor, dayAt(drag.track, event.clientX), false);
  });
  function release(event) {
    if (!drag || event.pointerId !== drag.pointer) { return; }
    var track = drag.track;
    var end = event.type === "pointercancel" ? null : dayAt(track, event.clientX);
    var anchor = drag.anchor;
    drag = null;
    if (end === null) { selection = null; draw(); say(""); return; }
    choose(track.closest(".health-row").dataset.model, anchor, end, true);
  }
  board.addEventListener("pointerup", release);
  board.addEventListener("pointercancel", release);

  // The keyboard: Enter (or Space) on a segment picks its first day, on a second its last.
  board.addEventListener("click", function (event) {
    var seg = event.target.closest(".track .seg");
    if (!seg || event.detail !== 0) { return; }  // a pointer's click: the drag has chosen already
    var model = seg.closest(".health-row").dataset.model;
    var mine = {model: model, start: seg.dataset.start, end: seg.dataset.end};
    if (!picked) {
      picked = mine;
      selection = null;
      draw();
      say("Start: " + seg.getAttribute("aria-label") + ". Press Enter on another segment (or this one again) for the end; Escape cancels.");
      return;
    }
    var first = picked;
    picked = null;
    choose(first.model, first.start < mine.start ? first.start : mine.start, first.end > mine.end ? first.end : mine.end, true);
  });

  // Arrow keys, Home and End move along a bar; only one segment of each bar is in the tab order.
  board.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && (picked || drag || selection)) {
      picked = drag = selection = null;
      draw();
      say("Cancelled.");
      return;
    }
    var seg = event.target.closest(".track .seg");
    if (!seg) { return; }
    var all = segments(seg.closest(".track"));
    var at = all.indexOf(seg);
    var to = {ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: all.length - 1}[event.key];
    if (to === undefined || to < 0 || to >= all.length) { return; }
    event.preventDefault();
    all.forEach(function (each) { each.tabIndex = -1; });
    all[to].tabIndex = 0;
    all[to].focus();
  });

  var focused = null;  // {model, start}: focus again after the board is refreshed
  board.addEventListener("focusin", function (event) {
    var seg = event.target.closest(".track .seg");
    focused = seg ? {model: seg.closest(".health-row").dataset.model, start: seg.dataset.start} : null;
  });

  function roving() {
    board.querySelectorAll(".track").forEach(function (track) {
      var all = segments(track);
      all.forEach(function (each, index) { each.tabIndex = index === 0 ? 0 : -1; });
    });
    if (focused && (document.activeElement === document.body || !document.activeElement)) {
      var track = trackOf(focused.model);
      var seg = track && track.querySelector('.seg[data-start="' + focused.start + '"]');
      if (seg) {
        segments(track).forEach(function (each) { each.tabIndex = -1; });
        seg.tabIndex = 0;
        seg.focus();
      }
    }
  }
  roving();
  // console.js swaps the board's HTML when it changed: mark the choice on the new bars again.
  new MutationObserver(function () { roving(); draw(); }).observe(board, {childList: true});
  window.addEventListener("resize", draw);
}());
