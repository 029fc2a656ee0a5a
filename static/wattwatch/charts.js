// Render every [data-figure] element from the JSON figure in the <script> it names, with Plotly's own JS.
(function () {
  "use strict";
  // On a phone a legend wraps to a line per entry: above the plot it runs into the title. Put it at the
  // bottom of the chart instead, with a line of room for each entry.
  function phoneLegend(node, figure) {
    var layout = figure.layout;
    if (node.clientWidth >= 560 || layout.showlegend === false) return;
    var entries = (figure.data || []).filter(function (t) { return t.showlegend !== false; }).length +
      (layout.shapes || []).filter(function (s) { return s.showlegend; }).length;
    if (entries < 2) return;
    var extra = 20 * entries;
    layout.legend = Object.assign({}, layout.legend, { x: 0, y: 0, yref: "container", yanchor: "bottom" });
    layout.margin = Object.assign({}, layout.margin, { t: 40, b: ((layout.margin && layout.margin.b) || 40) + extra });
    layout.height = (layout.height || 340) + extra;
  }
  function render() {
    var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
    document.querySelectorAll("[data-figure]").forEach(function (node) {
      var source = document.getElementById(node.getAttribute("data-figure"));
      if (!source) return;
      var figure = JSON.parse(source.textContent);
      figure.layout = figure.layout || {};
      figure.layout.font = Object.assign({}, figure.layout.font, { color: dark ? "#e8eaed" : "#1b1f24" });
      phoneLegend(node, figure);
      window.Plotly.react(node, figure.data, figure.layout, { responsive: true, displaylogo: false });
      // A cell whose customdata is a site path (the heat map's alert or room) opens it when tapped.
      if (!node.dataset.linked) {
        node.dataset.linked = "1";
        node.on("plotly_click", function (event) {
          var point = event.points && event.points[0];
          var target = point && point.customdata;
          if (typeof target === "string" && target.charAt(0) === "/" && target.charAt(1) !== "/") window.location.assign(target);
        });
      }
    });
  }
  if (window.Plotly) render(); else window.addEventListener("load", render);
})();
