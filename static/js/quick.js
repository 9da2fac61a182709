// After a quick action (call, SMS, WhatsApp, WeChat, email) offer "Log this …": a small bar linking to the
// partner's log form prefilled with the kind, channel and contact (partners/templating.py puts them in data-log).
// The link itself still opens the phone, messenger or mail app as usual. No inline script (CSP).
(function () {
  var NOUNS = {call: "call", message: "message", email: "email"};

  function removeBar() {
    var old = document.querySelector(".quick-log");
    if (old) old.remove();
  }

  function showBar(link) {
    removeBar();
    var kind = link.getAttribute("data-log-kind") || "";
    var bar = document.createElement("div");
    bar.className = "quick-log";
    bar.setAttribute("role", "status");
    var text = document.createElement("span");
    text.className = "quick-log-text";
    var partner = link.getAttribute("data-partner") || "";
    text.textContent = "Done? Log this " + (NOUNS[kind] || "touch") + (partner ? " with " + partner : "") + ".";
    var log = document.createElement("a");
    log.className = "button primary small";
    log.href = link.getAttribute("data-log") + "&next=" + encodeURIComponent(location.pathname + location.search);
    log.textContent = "Log this " + (NOUNS[kind] || "touch");
    var close = document.createElement("button");
    close.type = "button";
    close.className = "quick-log-close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", removeBar);
    bar.appendChild(text);
    bar.appendChild(log);
    bar.appendChild(close);
    document.body.appendChild(bar);
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-log]");
    if (link) showBar(link);
  });

  // A <select data-autosubmit> (Today's rep filter) submits its form when changed.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.matches && select.matches("select[data-autosubmit]") && select.form) select.form.submit();
  });
})();
