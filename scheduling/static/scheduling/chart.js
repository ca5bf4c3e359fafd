// The session chart: devices follow the esketamine dose (28 mg each); an IV total is weight x mg/kg.
// The server checks both again. A static file, not an inline script, so the CSP can forbid inline scripts.
(function () {
  var mg = document.getElementById("dose-mg"), devices = document.getElementById("dose-devices");
  if (mg && devices) { mg.addEventListener("change", function () { devices.textContent = Math.round(mg.value / 28); }); }
  var weight = document.getElementById("dose-weight"), perKg = document.getElementById("dose-mg-per-kg"),
      total = document.getElementById("dose-total");
  function sum() { var t = parseFloat(weight.value) * parseFloat(perKg.value); total.textContent = isNaN(t) ? "—" : t.toFixed(1); }
  if (weight && perKg && total) { weight.addEventListener("input", sum); perKg.addEventListener("input", sum); sum(); }
})();
