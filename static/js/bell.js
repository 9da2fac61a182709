// The notification bell's unread count (issue 11). Markup (jinja2/base.html):
//   <a class="bell" href="/notifications/" data-unread-url="/notifications/unread.json" aria-label="Notifications">
//     …<span class="badge" data-unread-count hidden></span></a>
// Fetches {"unread": n, "label": "3"} on load, every 60 s while the page is visible, and when it becomes visible
// again; fills the badge (hidden at 0) and the link's accessible name. No inline script: CSP-safe.
(function () {
  "use strict";
  var INTERVAL = 60 * 1000;
  var bells = Array.prototype.slice.call(document.querySelectorAll("[data-unread-url]"));
  if (!bells.length || window.prmBellStarted) return;
  window.prmBellStarted = true;
  var timer = null;

  function show(bell, data) {
    var badge = bell.querySelector("[data-unread-count]");
    var base = bell.getAttribute("data-label") || bell.getAttribute("aria-label") || "Notifications";
    if (!bell.hasAttribute("data-label")) bell.setAttribute("data-label", base);
    var unread = Number(data.unread) || 0;
    if (badge) {
      badge.textContent = unread ? String(data.label || unread) : "";
      badge.hidden = !unread;
    }
    bell.setAttribute("aria-label", unread ? base + " (" + (data.label || unread) + " unread)" : base);
  }

  function refresh() {
    bells.forEach(function (bell) {
      fetch(bell.getAttribute("data-unread-url"), {
        credentials: "same-origin", cache: "no-store", redirect: "error", headers: {"Accept": "application/json"}
      })
        .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
        .then(function (data) { show(bell, data); })
        .catch(function () { /* offline or signed out: keep what is shown */ });
    });
  }

  function schedule() {
    if (timer) clearInterval(timer);
    timer = document.hidden ? null : setInterval(refresh, INTERVAL);
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) refresh();
    schedule();
  });
  refresh();
  schedule();
})();
