// The week view (scheduling/pages/week.py): book where free chair time is clicked, move a session where it
// is dropped, and close the side panel with Escape. Every action asks the server (the booking and move
// services decide); the answer, a refusal included, lands in the side panel, never over the week.
(function () {
  "use strict";

  var SNAP = 15; // minutes: where a click or a drop lands
  var dragged = null; // {element, grabMinutes}
  var opener = null; // a selector for what opened the panel, to return focus to on Escape

  function body() { return document.getElementById("week-body"); }
  function panel() { return document.getElementById("week-panel"); }

  function axis() {
    var section = body();
    return {start: Number(section.dataset.axisStart), end: Number(section.dataset.axisEnd)};
  }

  // The wall-clock minute of the day under clientX on a track.
  function minuteAt(track, clientX) {
    var box = track.getBoundingClientRect();
    var span = axis();
    var share = Math.min(Math.max((clientX - box.left) / box.width, 0), 1);
    return span.start + share * (span.end - span.start);
  }

  function clock(minute) {
    var hours = Math.floor(minute / 60), minutes = minute % 60;
    return (hours < 10 ? "0" : "") + hours + ":" + (minutes < 10 ? "0" : "") + minutes;
  }

  function leftOf(track, minute) {
    var span = axis();
    return ((minute - span.start) / (span.end - span.start)) * 100 + "%";
  }

  // A selector that finds ``element`` again after the week is redrawn (its node is replaced then).
  function selectorFor(element) {
    if (element.dataset.sessionId) {
      return '[data-testid="week-session"][data-session-id="' + element.dataset.sessionId + '"]';
    }
    var track = element.closest(".week-track");
    if (track && element.dataset.startMinute) {
      return '.week-track[data-chair-id="' + track.dataset.chairId + '"][data-day="' + track.dataset.day
        + '"] [data-start-minute="' + element.dataset.startMinute + '"]';
    }
    return element.id ? "#" + element.id : null;
  }

  function rememberOpener(element) {
    opener = selectorFor(element);
  }

  function closePanel() {
    var box = panel();
    if (!box || !box.firstChild) return false;
    box.innerHTML = "";
    var target = opener && document.querySelector(opener);
    if (target) target.focus();
    return true;
  }

  // --- a click on free chair time: the booking form for that chair at the time clicked ------------------

  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-week-close]");
    if (closer) { closePanel(); return; }
    var free = event.target.closest('a[data-testid="week-free"]');
    if (!free || !window.htmx) return;
    event.preventDefault();
    var url = new URL(free.href, window.location.href);
    if (event.detail > 0) { // a pointer click: the quarter hour under it (a keyboard "click" keeps the start)
      var track = free.closest(".week-track");
      var first = Number(free.dataset.startMinute), last = Number(free.dataset.endMinute) - SNAP;
      var minute = Math.floor(minuteAt(track, event.clientX) / SNAP) * SNAP;
      minute = Math.max(first, Math.min(minute, Math.max(first, last)));
      url.searchParams.set("start", track.dataset.day + "T" + clock(minute));
    }
    rememberOpener(free);
    window.htmx.ajax("GET", url.pathname + url.search, {target: "#week-panel", swap: "innerHTML"});
  });

  // A session opened by click or Enter (htmx's own hx-get) is remembered for Escape too.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var element = event.detail.elt;
    if (element && element.id === "week-poller" && dragged) { event.preventDefault(); return; } // not under a drag
    if (element && element.dataset && element.dataset.testid === "week-session") rememberOpener(element);
  });

  // A redraw of the week (the poll, or after a change) keeps the keyboard where it was.
  var refocus = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var focused = document.activeElement;
    refocus = null;
    if (event.detail.target && event.detail.target.id === "week-body" && focused && body().contains(focused)) {
      refocus = selectorFor(focused);
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    var target = refocus && document.querySelector(refocus);
    if (target) target.focus();
    refocus = null;
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && closePanel()) event.preventDefault();
  });

  // --- drag a session to another chair and time ----------------------------------------------------------

  function hint(track) {
    var mark = track.querySelector(".week-drop-hint");
    if (!mark) {
      mark = document.createElement("div");
      mark.className = "week-drop-hint";
      mark.setAttribute("aria-hidden", "true");
      mark.appendChild(document.createElement("span"));
      track.appendChild(mark);
    }
    return mark;
  }

  function clearHints() {
    document.querySelectorAll(".week-drop-hint").forEach(function (mark) { mark.remove(); });
    document.querySelectorAll(".week-track.drop-target").forEach(function (track) {
      track.classList.remove("drop-target");
    });
  }

  // Where the session's start lands: the pointer, less where on the block it was grabbed, snapped.
  function dropMinute(track, clientX) {
    var span = axis();
    var minute = Math.round((minuteAt(track, clientX) - dragged.grabMinutes) / SNAP) * SNAP;
    return Math.max(span.start, Math.min(minute, span.end - SNAP));
  }

  document.addEventListener("dragstart", function (event) {
    var session = event.target.closest && event.target.closest('[data-testid="week-session"][data-movable]');
    if (!session) return;
    var track = session.closest(".week-track");
    dragged = {element: session,
      grabMinutes: minuteAt(track, event.clientX) - Number(session.dataset.startMinute)};
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", session.dataset.sessionId);
    session.classList.add("dragging");
  });

  document.addEventListener("dragover", function (event) {
    var track = dragged && event.target.closest && event.target.closest('.week-track[data-testid="week-track"]');
    if (!track) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    clearHints();
    track.classList.add("drop-target");
    var minute = dropMinute(track, event.clientX);
    var mark = hint(track);
    mark.style.left = leftOf(track, minute); // CSSOM, not a style attribute: allowed by the CSP
    mark.firstChild.textContent = track.dataset.dayWords + " " + clock(minute) + " · " + track.dataset.chairName;
  });

  document.addEventListener("drop", function (event) {
    var track = dragged && event.target.closest && event.target.closest('.week-track[data-testid="week-track"]');
    if (!track) return;
    event.preventDefault();
    var session = dragged.element;
    var minute = dropMinute(track, event.clientX);
    var url = body().dataset.moveUrl.replace("/0/", "/" + session.dataset.sessionId + "/");
    rememberOpener(session);
    window.htmx.ajax("POST", url, {target: "#week-panel", swap: "innerHTML",
      values: {start: track.dataset.day + "T" + clock(minute), chair: track.dataset.chairId}});
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.element.classList.remove("dragging");
    dragged = null;
    clearHints();
  });
})();
