// Draw every server-built Plotly figure: <div id="X-chart"> takes its data from <script id="X-data">.
document.querySelectorAll(".chart").forEach(function (container) {
  var source = document.getElementById(container.id.replace(/-chart$/, "-data"));
  if (!source) return;
  var figure = JSON.parse(source.textContent);
  Plotly.newPlot(container, figure.data, figure.layout, {responsive: true, displaylogo: false});
});
