/* Workspace pages: trend charts (Chart.js, data from json_script elements) and sortable tables.
   Served as a static file: the CSP allows no inline script. */
(function () {
  "use strict";

  function format(kind, value) {
    if (value === null || value === undefined) return "—";
    if (kind === "nps") return (value > 0 ? "+" : "") + value.toFixed(Number.isInteger(value) ? 0 : 1);
    if (kind === "percent") return value.toFixed(1) + " %";
    if (kind === "money") {
      var abs = Math.abs(value);
      if (abs >= 1e6) return "$" + (value / 1e6).toFixed(1) + "M";
      if (abs >= 1e3) return "$" + (value / 1e3).toFixed(0) + "K";
      return "$" + value.toFixed(0);
    }
    return value.toFixed(2);
  }

  // Axis titles wrap onto lines short enough for the chart's width (phones: ~26 characters).
  function lines(text, canvas) {
    var limit = canvas.clientWidth < 500 ? 26 : 60;
    var words = String(text).split(" ");
    var result = [""];
    words.forEach(function (word) {
      var last = result[result.length - 1];
      if (last && (last + " " + word).length > limit) result.push(word);
      else result[result.length - 1] = last ? last + " " + word : word;
    });
    return result;
  }

  // Draws a dashed vertical line at the month the barometer was agreed.
  var agreedMarker = {
    id: "agreedMarker",
    afterDatasetsDraw: function (chart) {
      var data = chart.config.options.plugins.agreedMarker;
      if (!data || !data.label) return;
      var index = chart.data.labels.indexOf(data.label);
      if (index < 0) return;
      var x = chart.scales.x.getPixelForValue(index);
      var area = chart.chartArea;
      var context = chart.ctx;
      context.save();
      context.strokeStyle = "#5a6275";
      context.setLineDash([4, 4]);
      context.beginPath();
      context.moveTo(x, area.top);
      context.lineTo(x, area.bottom);
      context.stroke();
      context.setLineDash([]);
      context.fillStyle = "#5a6275";
      context.font = "12px system-ui, sans-serif";
      context.textAlign = x > (area.left + area.right) / 2 ? "right" : "left";
      context.fillText("barometer agreed", x + (context.textAlign === "left" ? 4 : -4), area.top + 12);
      context.restore();
    }
  };

  // A month whose neighbours are gaps draws no band: its interval is a whisker instead.
  var isolatedIntervals = {
    id: "isolatedIntervals",
    afterDatasetsDraw: function (chart) {
      var data = chart.config.options.plugins.isolatedIntervals;
      if (!data) return;
      var x = chart.scales.x, y = chart.scales.y, context = chart.ctx;
      var last = data.values.length - 1;
      context.save();
      context.strokeStyle = "rgba(31, 95, 191, 0.6)";
      context.lineWidth = 2;
      data.values.forEach(function (value, i) {
        var alone = (i === 0 || data.values[i - 1] === null) && (i === last || data.values[i + 1] === null);
        if (value === null || !alone || data.low[i] === null || data.high[i] === null) return;
        var px = x.getPixelForValue(i), top = y.getPixelForValue(data.high[i]), bottom = y.getPixelForValue(data.low[i]);
        context.beginPath();
        context.moveTo(px, top); context.lineTo(px, bottom);
        context.moveTo(px - 5, top); context.lineTo(px + 5, top);
        context.moveTo(px - 5, bottom); context.lineTo(px + 5, bottom);
        context.stroke();
      });
      context.restore();
    }
  };

  function drawChart(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || typeof Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    var datasets = [
      { label: "95 % interval (low)", data: data.low, borderWidth: 0, pointRadius: 0, fill: false, spanGaps: false },
      { label: "95 % interval", data: data.high, borderWidth: 0, pointRadius: 0, backgroundColor: "rgba(31, 95, 191, 0.15)", fill: "-1", spanGaps: false },
      { label: data.title, data: data.values, borderColor: "#1f5fbf", backgroundColor: "#1f5fbf", borderWidth: 2, pointRadius: 3, fill: false, spanGaps: false }
    ];
    if (data.target !== null) {
      datasets.push({ label: "Target", data: data.labels.map(function () { return data.target; }), borderColor: "#b35c00", borderDash: [6, 4], borderWidth: 1.5, pointRadius: 0, fill: false });
    }
    new Chart(canvas, {
      type: "line",
      data: { labels: data.labels, datasets: datasets },
      plugins: [agreedMarker, isolatedIntervals],
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          // offset: each month sits in the middle of its slot, so no point is cut at an edge.
          x: { offset: true, title: { display: true, text: lines(data.xTitle, canvas) }, ticks: { autoSkip: true, autoSkipPadding: 16, maxRotation: 0 } },
          y: { title: { display: true, text: lines(data.yTitle, canvas) }, ticks: { callback: function (value) { return format(data.kind, value); } } }
        },
        plugins: {
          agreedMarker: { label: data.agreed },
          isolatedIntervals: { values: data.values, low: data.low, high: data.high },
          // A compact chart (a scorecard cell) leaves the legend to its caption.
          legend: { display: !data.compact, labels: { filter: function (item) { return item.text !== "95 % interval (low)"; } } },
          tooltip: {
            filter: function (item) { return item.datasetIndex === 2 || item.dataset.label === "Target"; },
            callbacks: {
              label: function (item) {
                var i = item.dataIndex;
                if (item.dataset.label === "Target") return "Target: " + format(data.kind, data.target);
                if (data.hidden[i]) return "not enough responses";
                var text = data.title + ": " + format(data.kind, data.values[i]);
                if (data.n[i] !== null) text += " (n = " + data.n[i] + ")";
                return text;
              },
              afterLabel: function (item) {
                var i = item.dataIndex;
                if (item.datasetIndex !== 2 || data.low[i] === null || data.high[i] === null) return "";
                return "95 % interval " + format(data.kind, data.low[i]) + " to " + format(data.kind, data.high[i]);
              }
            }
          }
        }
      }
    });
  }

  function sortTable(table, column, numeric, button) {
    var header = button.closest("th");
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("thead th").forEach(function (th) { th.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[column].dataset.sort || "";
      var y = b.cells[column].dataset.sort || "";
      if (numeric) {
        // Hidden or missing values sort last either way.
        if (x === "" || y === "") return (x === "") - (y === "");
        return ascending ? parseFloat(x) - parseFloat(y) : parseFloat(y) - parseFloat(x);
      }
      return ascending ? x.localeCompare(y) : y.localeCompare(x);
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  function drawScatter(canvas) {
    var source = document.getElementById(canvas.dataset.scatter);
    if (!source || typeof Chart === "undefined") return;
    var data = JSON.parse(source.textContent);
    new Chart(canvas, {
      type: "scatter",
      data: { datasets: [{ label: "Units", data: data.points, backgroundColor: "rgba(31, 95, 191, 0.7)", pointRadius: 4 }] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: { title: { display: true, text: lines(data.xTitle, canvas) }, ticks: { maxTicksLimit: 6, callback: function (value) { return format(data.xKind, value); } } },
          y: { title: { display: true, text: lines(data.yTitle, canvas) }, ticks: { maxTicksLimit: 6, callback: function (value) { return format(data.yKind, value); } } }
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (item) {
            var point = item.raw;
            return point.unit + ": " + format(data.xKind, point.x) + ", " + format(data.yKind, point.y);
          } } }
        }
      }
    });
  }

  document.querySelectorAll("canvas[data-chart]").forEach(drawChart);
  document.querySelectorAll("canvas[data-scatter]").forEach(drawScatter);
  document.querySelectorAll("table[data-sortable]").forEach(function (table) {
    table.querySelectorAll("button.sort").forEach(function (button) {
      button.addEventListener("click", function () {
        sortTable(table, parseInt(button.dataset.sortCol, 10), button.hasAttribute("data-sort-numeric"), button);
      });
    });
  });
})();
