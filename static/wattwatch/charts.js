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
    });
  }
  if (window.Plotly) render(); else window.addEventListener("load", render);
})();
