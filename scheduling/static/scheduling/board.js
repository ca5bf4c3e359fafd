// The day board on the floor, and the session panel.
//
// - Today's board opens at "now" (a third of the way down, so what just began and what comes next are both
//   in sight); another day's opens at its start.
// - The body redraws itself every 20 seconds (htmx, outerHTML): the desk keeps its place in the day.
// - A cancel asks first, in the page (a form marked data-confirm-step shows its .confirm-step box; "Yes"
//   sends it, "No" or Escape keeps the session). Without scripts the form cancels at once.
// - [data-print] buttons print the page (the day sheet).
(function () {
  "use strict";

  function scrollBox(root) {
    return (root || document).querySelector(".board-scroll");
  }

  function openAtNow() {
    var body = document.getElementById("board-body");
    var box = scrollBox(body);
    if (!body || !box || !body.hasAttribute("data-today")) { return; }
    var line = box.querySelector("[data-testid=board-now-line]");
    if (line) {
      box.scrollTop = Math.max(0, line.offsetTop - box.clientHeight / 3);
    }
  }

  var kept = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var box = event.detail.target && event.detail.target.id === "board-body" ? scrollBox(event.detail.target) : null;
    kept = box ? {top: box.scrollTop, left: box.scrollLeft} : kept;
  });
  document.addEventListener("htmx:afterSettle", function () {
    var box = scrollBox(document.getElementById("board-body"));
    if (kept && box) {
      box.scrollTop = kept.top;
      box.scrollLeft = kept.left;
      kept = null;
    }
  });

  // --- the cancel's confirmation ------------------------------------------------------------------------
  var waiting = new WeakMap();  // form -> htmx's way to send the request once confirmed

  function stepOf(form) {
    return form.querySelector(".confirm-step");
  }

  document.addEventListener("htmx:confirm", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm-step") || !stepOf(form)) { return; }
    event.preventDefault();
    if (!form.reportValidity()) { return; }  // the browser's own words beside an empty required field
    waiting.set(form, event.detail.issueRequest);
    var step = stepOf(form);
    step.hidden = false;
    step.querySelector("[data-confirm=yes]").focus();
  });

  function answer(form, yes) {
    var step = stepOf(form);
    var send = waiting.get(form);
    waiting.delete(form);
    step.hidden = true;
    if (yes && send) {
      send(true);
    } else {
      form.querySelector("button[type=submit]").focus();
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-confirm]") : null;
    var form = button ? button.closest("form[data-confirm-step]") : null;
    if (form) {
      answer(form, button.getAttribute("data-confirm") === "yes");
      return;
    }
    var printer = event.target.closest ? event.target.closest("[data-print]") : null;
    if (printer) { window.print(); }
  });

  document.addEventListener("keydown", function (event) {
    var step = event.key === "Escape" && event.target.closest ? event.target.closest(".confirm-step") : null;
    if (step && !step.hidden) { answer(step.closest("form"), false); }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", openAtNow);
  } else {
    openAtNow();
  }
})();
