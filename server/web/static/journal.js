// The journal form, enhanced: when a field that decides defaults changes, ask the server
// for the defaults (the same "Fill defaults" the button posts, server/web/pages/journal.py)
// and fill the fields still empty, and the On-Hand figures. Without this script the
// "Fill defaults" button does the same in a full round trip.
(function () {
  "use strict";
  var form = document.getElementById("journal-form");
  if (!form || !window.fetch || !window.DOMParser) return;
  var deciding = /-(item|serial|lot|quantity|location|bin|job|cost_code|cost_category|work_order)$|^(transaction_type|effective_date)$/;
  var pending = null;

  function fill(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.getElementById("journal-form");
    if (!fresh) return;
    fresh.querySelectorAll("input[name], select[name]").forEach(function (got) {
      var mine = form.elements.namedItem(got.name);
      if (!mine || mine === document.activeElement || mine.type === "hidden") return;
      if (mine.type === "checkbox" || mine.tagName === "SELECT") return;
      // A field the user typed in keeps its value; one the server filled follows it.
      if (!mine.value || mine.classList.contains("defaulted")) {
        mine.value = got.value;
        mine.classList.toggle("defaulted", !!got.value);
      }
    });
    fresh.querySelectorAll(".onhand").forEach(function (got) {
      var mine = document.getElementById(got.id);
      if (mine) { mine.innerHTML = got.innerHTML; return; }
      var bin = form.elements.namedItem(got.id.replace(/-on_hand$/, "-gl_entity"));
      if (bin && bin.parentNode && bin.parentNode.parentNode) {
        bin.parentNode.parentNode.appendChild(got.cloneNode(true));
      }
    });
  }

  function ask() {
    // The form as the browser would post it (urlencoded), asking for the defaults.
    var data = new URLSearchParams(new FormData(form));
    data.set("action", "defaults");
    // (not form.action: the buttons named "action" shadow it)
    fetch(form.getAttribute("action"), { method: "POST", body: data, credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(fill)
      .catch(function () { /* the button still works */ });
  }

  form.addEventListener("input", function (event) {
    if (event.target.classList) event.target.classList.remove("defaulted");
  });

  form.addEventListener("change", function (event) {
    if (!event.target.name || !deciding.test(event.target.name)) return;
    if (pending) clearTimeout(pending);
    pending = setTimeout(ask, 250);
  });
})();
