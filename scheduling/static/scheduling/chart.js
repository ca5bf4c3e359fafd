// The session chart: devices follow the esketamine dose (28 mg each); an IV total is weight x mg/kg.
// The server checks both again. A static file, not an inline script, so the CSP can forbid inline scripts.
// The chart's body is swapped in place after each step (htmx), so the listeners sit on the document and
// the IV total is worked out again after every swap.
(function () {
  "use strict";
  function byId(id) { return document.getElementById(id); }
  function devices() {
    var mg = byId("dose-mg"), count = byId("dose-devices");
    if (mg && count) { count.textContent = Math.round(mg.value / 28); }
  }
  function total() {
    var weight = byId("dose-weight"), perKg = byId("dose-mg-per-kg"), out = byId("dose-total");
    if (!weight || !perKg || !out) { return; }
    var t = parseFloat(weight.value) * parseFloat(perKg.value);
    out.textContent = isNaN(t) ? "—" : t.toFixed(1);
  }
  document.addEventListener("change", function (event) { if (event.target.id === "dose-mg") { devices(); } });
  document.addEventListener("input", function (event) {
    if (event.target.id === "dose-weight" || event.target.id === "dose-mg-per-kg") { total(); }
  });
  function refresh() { devices(); total(); }
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target.id === "chart-body") { refresh(); }
  });
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", refresh); } else { refresh(); }
})();
