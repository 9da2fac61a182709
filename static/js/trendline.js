/* Draws the partner page's charts: every element with data-figure="<id>" gets the Plotly figure (data, layout, config)
 * that Python built (business.selectors' trendline, business.charts' leads chart) and embedded with json_script as
 * <script type="application/json" id="<id>">; nothing here is inline, so a strict CSP needs no exceptions. Loaded
 * once per page however many charts it has. */
(function () {
  "use strict";

  function draw(target) {
    var source = document.getElementById(target.getAttribute("data-figure"));
    if (!source || target.dataset.drawn || typeof window.Plotly === "undefined") {
      return;
    }
    target.dataset.drawn = "1";
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

  function drawAll() {
    document.querySelectorAll("[data-figure]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
