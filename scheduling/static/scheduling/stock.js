// A register's Print button (a listener here, because the CSP forbids inline onclick handlers).
(function () {
  var button = document.getElementById("register-print");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
})();
