// The outcomes charts on the patient page, drawn with Chart.js and its annotation plugin (vendored under
// static/vendor/). Each <canvas data-outcome="{...}"> carries its data as JSON (scheduling/pages/
// outcomes_chart.py); the table under it holds the same values for readers and print.
// Colours come from outcomes.css's custom properties, so the key's swatches and the chart agree.
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") { return; }  // no library: the tables still say it all

  function cssVar(element, name) {
    return getComputedStyle(element).getPropertyValue(name).trim();
  }

  // Each point's total written above it (below when it is at the top), on a white halo so a band or a
  // threshold line under it never hides it; a label that would overprint the previous one is skipped
  // (the table has every value).
  function pointValues(ink) {
    return {
      id: "outcomeValues",
      afterDatasetsDraw: function (chart) {
        var ctx = chart.ctx, area = chart.chartArea, meta = chart.getDatasetMeta(0), data = chart.data.datasets[0].data;
        var previous = null;
        ctx.save();
        ctx.font = "600 12px system-ui, -apple-system, 'Segoe UI', sans-serif";
        ctx.textAlign = "center";
        ctx.textBaseline = "bottom";
        ctx.lineWidth = 3;
        ctx.lineJoin = "round";
        ctx.strokeStyle = "#fff";
        ctx.fillStyle = ink;
        meta.data.forEach(function (element, index) {
          var text = String(data[index].y), width = ctx.measureText(text).width;
          var y = element.y - 8 < area.top + 14 ? element.y + 22 : element.y - 8;
          var box = {left: element.x - width / 2 - 2, right: element.x + width / 2 + 2, top: y - 14, bottom: y};
          if (previous && box.left < previous.right && box.top < previous.bottom && previous.top < box.bottom) {
            return;
          }
          ctx.strokeText(text, element.x, y);
          ctx.fillText(text, element.x, y);
          previous = box;
        });
        ctx.restore();
      },
    };
  }

  function draw(canvas) {
    var data = JSON.parse(canvas.getAttribute("data-outcome"));
    var figure = canvas.closest(".outcome-chart");
    var ink = cssVar(figure, "--outcome-ink"), line = cssVar(figure, "--outcome-line");
    var responseColour = cssVar(figure, "--outcome-response"), remissionColour = cssVar(figure, "--outcome-remission");
    var points = data.points;
    var lastDay = points.length ? points[points.length - 1].day : 0;
    // A margin either side so the first and last points (and their values) sit inside the plot.
    var margin = Math.max(1, Math.round(lastDay * 0.04));
    var annotations = {};
    data.bands.forEach(function (band) {
      annotations["band-" + band.slug] = {
        type: "box", drawTime: "beforeDatasetsDraw", borderWidth: 0,
        yMin: Math.max(0, band.low - 0.5), yMax: Math.min(data.max, band.high + 0.5),
        backgroundColor: cssVar(figure, "--band-" + band.shade),
      };
    });
    if (data.response_at !== null) {
      annotations.response = {type: "line", yMin: data.response_at, yMax: data.response_at, borderColor: responseColour,
                               borderWidth: 2, borderDash: [8, 4], drawTime: "beforeDatasetsDraw"};
    }
    annotations.remission = {type: "line", yMin: data.remission_at, yMax: data.remission_at,
                             borderColor: remissionColour, borderWidth: 2, borderDash: [2, 3],
                             drawTime: "beforeDatasetsDraw"};
    // Point colours say what each measure reached: remission green, response blue, the baseline hollow.
    function pointColour(point) {
      if (point.reached.indexOf("remission") !== -1) { return remissionColour; }
      if (point.reached.indexOf("response") !== -1) { return responseColour; }
      return point.kind === "baseline" ? "#fff" : line;
    }
    new window.Chart(canvas, {
      type: "line",
      data: {
        datasets: [{
          label: data.label,
          data: points.map(function (point) { return {x: point.day, y: point.total}; }),
          borderColor: line, borderWidth: 2, tension: 0,
          pointRadius: points.map(function (point) { return point.kind === "baseline" ? 6 : 5; }),
          pointHoverRadius: 7,
          pointBackgroundColor: points.map(pointColour),
          pointBorderColor: line, pointBorderWidth: 2,
        }],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        layout: {padding: {top: 6}},
        plugins: {
          legend: {display: false},
          annotation: {annotations: annotations},
          tooltip: {
            callbacks: {
              title: function (items) { return points[items[0].dataIndex].short; },
              label: function (item) {
                var point = points[item.dataIndex];
                var words = data.label + " " + point.total + " (" + point.band + ")";
                if (point.kind === "baseline") { words += ", baseline"; }
                if (point.reached.length) { words += ", " + point.reached.join(" and "); }
                return words;
              },
            },
          },
        },
        scales: {
          x: {
            type: "linear", min: -margin, max: lastDay + margin,
            grid: {display: false},
            // A tick at each measure's day, dated; Chart.js drops those that would overprint.
            afterBuildTicks: function (axis) {
              axis.ticks = points.map(function (point) { return {value: point.day}; });
            },
            ticks: {
              color: ink, autoSkip: true, maxRotation: 0, autoSkipPadding: 10,
              callback: function (value) {
                var point = points.find(function (p) { return p.day === value; });
                return point ? point.short : "";
              },
            },
          },
          y: {
            min: 0, max: data.max,
            title: {display: true, text: data.label + " total", color: ink},
            // Round numbers only: the instrument's top (27, 21) would crowd the tick below it.
            afterBuildTicks: function (axis) {
              var step = data.max <= 30 ? 5 : 10, ticks = [];
              for (var value = 0; value <= data.max; value += step) { ticks.push({value: value}); }
              axis.ticks = ticks;
            },
            ticks: {color: ink},
            grid: {color: "rgba(0, 0, 0, 0.06)"},
          },
          // The bands named on the right, each at its middle: the axis takes the width its words need.
          bands: {
            type: "linear", position: "right", min: 0, max: data.max,
            grid: {drawOnChartArea: false},
            afterBuildTicks: function (axis) {
              axis.ticks = data.bands.map(function (band) { return {value: (band.low + Math.min(band.high, data.max)) / 2}; });
            },
            ticks: {
              color: ink, autoSkip: false, font: {size: 11},
              callback: function (value) {
                var band = data.bands.find(function (b) { return (b.low + Math.min(b.high, data.max)) / 2 === value; });
                // Two lines (name, range) keep the axis narrow enough for its words to fit whole.
                return band ? [band.label, band.low + "–" + band.high] : "";
              },
            },
          },
        },
      },
      plugins: [pointValues(ink)],
    });
    canvas.setAttribute("data-drawn", "true");
  }

  document.querySelectorAll("canvas[data-outcome]").forEach(draw);
})();
