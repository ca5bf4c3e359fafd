// Every htmx form shows what went wrong where it was sent from, whatever the status.
//
// A refusal the page rendered (400, 403, 404, 409...: the service's words beside the field) is swapped in
// by htmx, as base.html's htmx-config says. What no page rendered must neither wipe the screen nor pass in
// silence: a whole error page (Django's 403 or 404), a server error, a lost connection. Those leave the
// screen as it was (what was typed stays) and put a short alert at the top of the form, or of the area,
// that asked. Background refreshes (X-Clinic-Poll) say nothing: they try again by themselves.
(function () {
  "use strict";

  var MARK = "htmx-failure";
  var WORDS = {
    403: "Your role does not allow this.",
    404: "This is no longer there: it may have been removed. Reload the page to see where things stand.",
    413: "What was sent is too large.",
    429: "Too many tries: wait a moment, then try again."
  };

  function isPoll(detail) {
    var headers = detail.requestConfig && detail.requestConfig.headers;
    return Boolean(headers && headers["X-Clinic-Poll"]);
  }

  // The form (or element) that sent the request: htmx fires the swap events on the target, not on it.
  function placeFor(event) {
    var config = event.detail.requestConfig;
    var asker = (config && config.elt) || (event.target instanceof Element ? event.target : event.detail.elt);
    var form = asker && asker.closest ? asker.closest("form") : null;
    return form || event.detail.target || asker;
  }

  function wordsFor(xhr) {
    if (!xhr || !xhr.status) {
      return "The clinic's server could not be reached: check the connection, then try again.";
    }
    return (WORDS[xhr.status] ||
            "The server could not do this just now (error " + xhr.status + "). " +
            "Reload the page to see where things stand, then try again.");
  }

  function clear(place) {
    var old = place && place.querySelector(":scope > ." + MARK);
    if (old) { old.remove(); }
  }

  function say(event, words) {
    if (isPoll(event.detail)) { return; }
    var place = placeFor(event);
    if (!place) { return; }
    clear(place);
    var box = document.createElement("div");
    box.className = "error-box " + MARK;
    box.setAttribute("role", "alert");
    box.setAttribute("tabindex", "-1");
    box.setAttribute("data-testid", "request-failed");
    var text = document.createElement("p");
    text.textContent = words;
    box.appendChild(text);
    place.insertBefore(box, place.firstChild);
    box.focus();
  }

  function isWholeDocument(text) {
    return /^\s*<!doctype|<html[\s>]/i.test(text || "");
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    clear(placeFor(event));
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    if (detail.xhr.status >= 400 && isWholeDocument(detail.xhr.responseText)) {
      detail.shouldSwap = false;
      detail.isError = false;  // said here, once
      say(event, wordsFor(detail.xhr));
    }
  });

  document.addEventListener("htmx:responseError", function (event) {
    say(event, wordsFor(event.detail.xhr));
  });

  document.addEventListener("htmx:sendError", function (event) {
    say(event, wordsFor(null));
  });
})();
