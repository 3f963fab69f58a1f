// Dashboard behaviour, kept small: draw the server-built Plotly figures, follow a click on a
// bar to its team or model page, copy snippets, show the custom date inputs.
(function () {
  "use strict";

  // Plotly.py writes a trace's values as a list or, for arrays, as base64 ({bdata: ...}).
  function hasValues(values) {
    return Array.isArray(values) ? values.length > 0 : Boolean(values && values.bdata);
  }

  function hasPoints(figure) {
    return (figure.data || []).some(function (trace) {
      return hasValues(trace.x) || hasValues(trace.y) || hasValues(trace.values);
    });
  }

  // <div id="X-chart"> takes its figure from <script id="X-data" type="application/json">.
  if (window.Plotly) {
    document.querySelectorAll(".chart").forEach(function (container) {
      var source = document.getElementById(container.id.replace(/-chart$/, "-data"));
      if (!source) return;
      var figure = JSON.parse(source.textContent);
      // A figure without a single point would be drawn as bare axes from -1 to 6: say so instead.
      if (!hasPoints(figure)) {
        container.classList.add("empty");
        container.setAttribute("data-empty", "true");
        container.setAttribute("data-rendered", "true");
        container.textContent = "Nothing to chart for this period.";
        return;
      }
      Plotly.newPlot(container, figure.data, figure.layout, {
        responsive: true,
        displaylogo: false,
        modeBarButtonsToRemove: ["select2d", "lasso2d"],
      }).then(function () {
        container.setAttribute("data-rendered", "true");
      });
      // Traces whose points carry a page URL in customdata drill down on click.
      container.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        var url = point && point.customdata;
        if (typeof url === "string" && url.charAt(0) === "/") window.location.assign(url);
      });
    });
  }

  document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var text = document.getElementById(button.getAttribute("data-copy")).textContent;
      var done = function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy"; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () {});
      } else {
        var area = document.createElement("textarea");
        area.value = text;
        document.body.appendChild(area);
        area.select();
        try { document.execCommand("copy"); done(); } catch (e) { /* nothing to do */ }
        area.remove();
      }
    });
  });

  document.querySelectorAll("select[data-custom-toggle]").forEach(function (select) {
    var toggle = function () {
      document.querySelectorAll(".custom-dates").forEach(function (field) {
        field.hidden = select.value !== "custom";
      });
    };
    select.addEventListener("change", toggle);
  });

  // Progress bars of running jobs refresh themselves while something is still running.
  if (document.querySelector("[data-refresh-while-running]")) {
    setTimeout(function () { window.location.reload(); }, 5000);
  }
})();

// Destructive forms ask first.
document.querySelectorAll("form[data-confirm]").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
  });
});
