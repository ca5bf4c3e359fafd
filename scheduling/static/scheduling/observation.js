// The observation board: between the server's 5-second refreshes, each countdown ticks from its
// data-ends-at (an ISO instant). A static file, not an inline script, so the CSP can forbid inline scripts.
(function () {
  function tick() {
    document.querySelectorAll("[data-ends-at]").forEach(function (el) {
      var left = Math.ceil((Date.parse(el.dataset.endsAt) - Date.now()) / 1000);
      if (isNaN(left)) { return; }
      if (left <= 0) { el.textContent = "Ready to discharge"; return; }
      var m = Math.floor(left / 60), s = left % 60;
      el.textContent = m + ":" + (s < 10 ? "0" : "") + s + " left";
    });
  }
  tick();
  setInterval(tick, 1000);
  document.body.addEventListener("htmx:afterSwap", tick);
})();
