// A count's live progress: polls /counts/<n>/progress while the page is open and
// updates the progress line in place. The page works without it (reload to see).
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-url");
  var version = box.getAttribute("data-version");
  var bar = document.getElementById("progress-bar");
  var text = document.getElementById("progress-text");
  var status = document.getElementById("count-status");
  var stale = document.getElementById("stale");
  function show(p) {
    bar.max = p.scope_bins || 1;
    bar.value = p.counted_bins;
    text.textContent = p.counted_bins + " of " + p.scope_bins + " bins counted, " +
      p.conflicts + " conflict(s), " + p.recounts_open + " recount(s) open";
    status.textContent = p.status_label;
    if (String(p.version) !== version && stale) { stale.hidden = false; }
  }
  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) { if (p) { show(p); } })
      .catch(function () { /* offline for a moment: try again at the next tick */ })
      .then(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 2000);
})();
