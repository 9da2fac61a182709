/* Draws the business trendline of the partner page.
 * The figure (data, layout, config) is built in Python (business.selectors) and embedded with Django's json_script
 * as <script type="application/json" id="trend-data">; nothing here is inline, so a strict CSP needs no exceptions. */
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("trend-data");
    var target = document.getElementById("trend-chart");
    if (!source || !target || typeof window.Plotly === "undefined") {
      return;
    }
    var figure = JSON.parse(source.textContent);
    window.Plotly.newPlot(target, figure.data, figure.layout, figure.config || {});
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
