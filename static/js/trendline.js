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
    var layout = figure.layout || {};
    var config = figure.config || {};
    if (window.matchMedia && window.matchMedia("(max-width: 599px)").matches) {
      // A phone: no mode bar over the title (zoom and pan fight with scrolling anyway), every other period labelled,
      // labels level rather than slanted.
      config.displayModeBar = false;
      config.scrollZoom = false;
      layout.xaxis = Object.assign({}, layout.xaxis, {nticks: 6, tickangle: 0});
      layout.dragmode = false;
    }
    window.Plotly.newPlot(target, figure.data, layout, config);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
