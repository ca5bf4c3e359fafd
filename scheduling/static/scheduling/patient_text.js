// "Text the patient": the length and number of SMS parts, counted as the server counts them
// (scheduling/messaging/desk_texts.py sms_parts), as the desk types. Loaded again with each swap of
// the section, so it binds once, on the document.
(function () {
  "use strict";
  if (window.clinicSmsCounter) { return; }
  window.clinicSmsCounter = true;

  var GSM_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ" +
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM_EXTENDED = "^{}\\[~]|€\f";

  function parts(text) {
    var chars = Array.from(text);
    var gsm = chars.every(function (c) { return GSM_BASIC.indexOf(c) >= 0 || GSM_EXTENDED.indexOf(c) >= 0; });
    var units = 0, single = 160, multi = 153;
    if (gsm) {
      chars.forEach(function (c) { units += GSM_EXTENDED.indexOf(c) >= 0 ? 2 : 1; });
    } else {
      single = 70; multi = 67;
      chars.forEach(function (c) { units += c.codePointAt(0) > 0xFFFF ? 2 : 1; });
    }
    var segments = units === 0 ? 0 : units <= single ? 1 : Math.ceil(units / multi);
    return { characters: units, segments: segments, unicode: !gsm };
  }

  function update(area) {
    var out = document.getElementById("patient-text-count");
    if (!out) { return; }
    var max = parseInt(area.dataset.maxSegments, 10);
    var p = parts((area.dataset.prefix || "") + area.value.trim());
    out.dataset.characters = p.characters;
    out.dataset.segments = p.segments;
    out.textContent = p.characters + " characters with the clinic's name, " + p.segments + " text" +
      (p.segments === 1 ? "" : "s") + " (at most " + max + ")" +
      (p.unicode ? "; special characters make each text shorter" : "") + "." +
      (p.segments > max ? " Too long." : "");
    out.classList.toggle("field-error", p.segments > max);
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-sms-counter]")) { update(event.target); }
  });
})();
