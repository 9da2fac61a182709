/* Draws the team dashboard's charts (jinja2/dashboard/team.html): each <div data-team-chart="ID"> gets the figure in
 * <script type="application/json" id="ID"> (json_script; built by insights/team_charts.py). No inline script (CSP).
 * On a phone: no mode bar, no zoom or drag (they fight with scrolling). */
(function () {
  "use strict";

  function draw() {
    if (typeof window.Plotly === "undefined") {
      return;
    }
    var phone = window.matchMedia && window.matchMedia("(max-width: 599px)").matches;
    document.querySelectorAll("[data-team-chart]").forEach(function (target) {
      var source = document.getElementById(target.getAttribute("data-team-chart"));
      if (!source) {
        return;
      }
      var figure = JSON.parse(source.textContent);
      var layout = figure.layout || {};
      var config = Object.assign({}, figure.config || {}, {displayModeBar: false});
      if (phone) {
        config.scrollZoom = false;
        layout.dragmode = false;
        layout.xaxis = Object.assign({}, layout.xaxis, {tickangle: 0});
      }
      window.Plotly.newPlot(target, figure.data, layout, config);
    });
  }

  // The rep filter submits when changed (the Show button stays for keyboards and no-JS).
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.matches && select.matches("select[data-autosubmit]") && select.form) {
      select.form.submit();
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
