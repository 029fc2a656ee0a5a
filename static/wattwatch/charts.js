// Render every [data-figure] element from the JSON figure in the <script> it names, with Plotly's own JS.
(function () {
  "use strict";
  function render() {
    var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
    document.querySelectorAll("[data-figure]").forEach(function (node) {
      var source = document.getElementById(node.getAttribute("data-figure"));
      if (!source) return;
      var figure = JSON.parse(source.textContent);
      figure.layout = figure.layout || {};
      figure.layout.font = Object.assign({}, figure.layout.font, { color: dark ? "#e8eaed" : "#1b1f24" });
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
