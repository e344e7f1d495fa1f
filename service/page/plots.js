// Plotly figures of the page: training history, reference vs generated histograms with a
// ratio panel, and the mean shower per layer. Every number comes from the service: the
// histograms are the report's display histograms (binned, normalised and divided by
// hepgan.validation.report.display_histograms, as hepgan validate --plots draws them);
// nothing is binned or computed here.
"use strict";

const HepganPlots = (() => {
  const REFERENCE = "#1b1f24";
  const GENERATED = "#d1242f";
  const CONFIG = { displaylogo: false, responsive: true };
  const FONT = { family: "system-ui, sans-serif", size: 12 };

  // The report's axis title of an observable (symbol and unit, HTML), else its name [unit].
  // Plotly.newPlot with the element as tall as the layout: a responsive resize (a window
  // resize, a full-page print) sizes a plot to its element, which would cut it to its CSS
  // min-height otherwise.
  async function newPlot(element, traces, layout) {
    element.style.height = `${layout.height}px`;
    await Plotly.newPlot(element, traces, layout, CONFIG);
    return clearTitle(element, layout);
  }

  // A legend above the plot area that wraps onto more rows than the top margin holds (a
  // narrow plot, long labels) climbs into the title: grow the top margin, and the plot's
  // height with it, by the overlap, so the legend sits between the title and the data.
  async function clearTitle(element, layout) {
    const title = element.querySelector(".gtitle");
    const legend = element.querySelector(".legend");
    if (!title || !legend) return element;
    const overlap = Math.ceil(title.getBoundingClientRect().bottom + 4 - legend.getBoundingClientRect().top);
    if (overlap <= 0) return element;
    const height = layout.height + overlap;
    element.style.height = `${height}px`;
    return Plotly.relayout(element, { "margin.t": layout.margin.t + overlap, height });
  }

  function axisTitle(name, unit, labels) {
    if (labels && labels[name]) return labels[name];
    return unit ? `${name} [${unit}]` : name;
  }

  function fmt(value, digits = 3) {
    if (value === null || value === undefined) return "n/a";
    if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5)) return value.toExponential(digits - 1);
    return Number(value.toPrecision(digits)).toString();
  }

  // A p-value: one that underflowed to 0 (below about 1e-308) is shown as a bound, not as 0.
  function fmtP(value, digits = 2) {
    return value === 0 ? "< 1e-300" : fmt(value, digits);
  }

  // A step outline through the bins: x = edges, y = value held across each bin.
  function steps(edges, values) {
    const x = [];
    const y = [];
    for (let i = 0; i < values.length; i++) {
      x.push(edges[i], edges[i + 1]);
      y.push(values[i], values[i]);
    }
    return { x, y };
  }

  function sampleLabel(name, sample) {
    return `${name} (N=${sample.n_events})`;
  }

  // One sample of a display histogram: its density as a step outline, with markers and
  // Poisson error bars at the bin centres `x`.
  function histogramTraces(display, sample, label, colour) {
    const outline = steps(display.edges, sample.density);
    return [
      { x: outline.x, y: outline.y, mode: "lines", name: label, legendgroup: label,
        line: { color: colour, width: 1.6 }, xaxis: "x", yaxis: "y", hoverinfo: "skip" },
      { x: display.x, y: sample.density, mode: "markers", showlegend: false, legendgroup: label,
        marker: { color: colour, size: 3 }, xaxis: "x", yaxis: "y",
        error_y: { type: "data", array: sample.density_error, color: colour, thickness: 1, width: 0 } },
    ];
  }

  // Bars of a discrete variable (a charge, a type): the fraction of each sample at each value.
  function barTraces(display) {
    const bar = (sample, label, colour) => ({
      type: "bar", x: display.x, y: sample.density, name: label, marker: { color: colour },
      error_y: { type: "data", array: sample.density_error, color: colour, thickness: 1 },
      xaxis: "x", yaxis: "y", opacity: 0.75,
    });
    return [bar(display.reference, sampleLabel("reference", display.reference), REFERENCE),
            bar(display.candidate, sampleLabel("generated", display.candidate), GENERATED)];
  }

  const RATIO_RANGE = [0.5, 1.5];

  // The display's generated / reference per bin with its error; a ratio outside the panel
  // becomes an arrow (a triangle) at its edge, its value in the hover; null: an empty bin.
  function ratioTraces(display) {
    const inside = { x: [], y: [], error: [] };
    const outside = { x: [], y: [], symbol: [], text: [] };
    const [low, high] = RATIO_RANGE;
    const pad = 0.03 * (high - low);
    display.ratio.forEach((ratio, i) => {
      if (ratio === null) return;
      if (ratio > high || ratio < low) {
        outside.x.push(display.x[i]);
        outside.y.push(ratio > high ? high - pad : low + pad);
        outside.symbol.push(ratio > high ? "triangle-up" : "triangle-down");
        outside.text.push(`generated / reference = ${fmt(ratio)}`);
      } else {
        inside.x.push(display.x[i]);
        inside.y.push(ratio);
        inside.error.push(display.ratio_error[i]);
      }
    });
    return [
      { x: inside.x, y: inside.y, mode: "markers", showlegend: false, marker: { color: GENERATED, size: 4 },
        error_y: { type: "data", array: inside.error, color: GENERATED, thickness: 1, width: 0 },
        xaxis: "x", yaxis: "y2", name: "generated / reference" },
      { x: outside.x, y: outside.y, mode: "markers", name: "ratio off scale", showlegend: outside.x.length > 0,
        marker: { color: GENERATED, size: 9, symbol: outside.symbol }, text: outside.text, hoverinfo: "x+text",
        xaxis: "x", yaxis: "y2", meta: "off-scale" },
    ];
  }

  // Log axes where a positive quantity spans more than two decades.
  function spansDecades(low, high) {
    return low > 0 && high / low > 100;
  }

  // Buttons that switch the x and y axes between linear and log (the default already chosen).
  function scaleButtons(logX, logY) {
    const menu = (axis, isLog, x) => ({
      type: "buttons", direction: "right", x, xanchor: "left", y: BUTTONS_Y, yanchor: "top", pad: { t: 0, l: 0 },
      showactive: true, active: isLog ? 1 : 0, font: { size: 10 },
      buttons: [
        { label: `${axis} lin`, method: "relayout", args: [{ [`${axis}axis.type`]: "linear", [`${axis}axis.autorange`]: true }] },
        { label: `${axis} log`, method: "relayout", args: [{ [`${axis}axis.type`]: "log", [`${axis}axis.autorange`]: true }] },
      ],
    });
    return [menu("x", logX, 0), menu("y", logY, 0.3)];
  }

  // Where the scale buttons sit: below the x axis' title, in the bottom margin (paper units).
  const BUTTONS_Y = -0.2;

  // A title in the top margin, above the legend.
  function titleAtTop(text) {
    return { text, font: { size: 13 }, yref: "container", y: 0.985, yanchor: "top", pad: { t: 8 } };
  }

  // Legends above the plot area: never on the data.
  const LEGEND = { orientation: "h", x: 0, xanchor: "left", y: 1.02, yanchor: "bottom",
                   bgcolor: "rgba(255,255,255,0)", font: { size: 10 } };

  // A report's display histogram (ObservableScore.display, VoxelSpectrum.display: binned by
  // the service, drawn as given) as densities, or bars for a discrete variable, over a ratio
  // panel. `text`: {title, xTitle, statistics}.
  function drawHistogram(element, display, text) {
    if (display.discrete) return drawDiscrete(element, display, text);
    const { reference, candidate, edges } = display;
    const traces = [
      ...histogramTraces(display, reference, sampleLabel("reference", reference), REFERENCE),
      ...histogramTraces(display, candidate, sampleLabel("generated", candidate), GENERATED),
      ...ratioTraces(display),
    ];
    const layout = histogramLayout(text, display.log_x, display.log_y);
    const toAxis = display.log_x ? Math.log10 : (v) => v;
    layout.xaxis.range = [toAxis(edges[0]), toAxis(edges[edges.length - 1])];
    if (display.log_y) {
      // Plotly pads a log axis by a share of all the decades it spans: over many decades the
      // axis then ends far above the data. End it a tenth of a decade above the highest bar.
      const positive = [...reference.density, ...candidate.density].filter((d) => d > 0);
      const tops = [reference, candidate].flatMap((s) => s.density.map((d, i) => d + s.density_error[i]));
      if (positive.length) layout.yaxis.range = [Math.log10(Math.min(...positive)) - 0.1, Math.log10(Math.max(...tops)) + 0.1];
    }
    return newPlot(element, traces, layout);
  }

  // Bars per value of a discrete variable (the display's `x`), fractions of each sample.
  function drawDiscrete(element, display, text) {
    const traces = [...barTraces(display), ...ratioTraces(display)];
    const layout = histogramLayout(text, false, false);
    layout.barmode = "group";
    layout.yaxis.title.text = "fraction of events";
    layout.xaxis.tickvals = display.x;
    return newPlot(element, traces, layout);
  }

  function histogramLayout(text, logX, logY) {
    return {
      font: FONT, margin: { l: 60, r: 10, t: text.statistics ? 96 : 72, b: 100 }, height: 460,
      title: titleAtTop(text.statistics ? `${text.title}<br><span style="font-size:10px;color:#5b6470">${text.statistics}</span>` : text.title),
      showlegend: true, legend: LEGEND, updatemenus: scaleButtons(logX, logY),
      xaxis: { anchor: "y2", automargin: true, type: logX ? "log" : "linear", title: { text: text.xTitle, standoff: 4 } },
      yaxis: { domain: [0.34, 1], title: { text: "density" }, type: logY ? "log" : "linear", rangemode: "tozero" },
      yaxis2: { domain: [0, 0.24], range: RATIO_RANGE, title: { text: "gen / ref" } },
      shapes: [{ type: "line", xref: "paper", x0: 0, x1: 1, yref: "y2", y0: 1, y1: 1,
                 line: { color: REFERENCE, width: 1, dash: "dot" } }],
    };
  }

  // One observable of the report on its display bins, with its statistics in the title.
  function drawObservable(element, score, labels) {
    const label = axisTitle(score.name, score.unit, labels);
    const statistics = `KS ${fmt(score.ks)} (p ${fmtP(score.ks_pvalue)}), JS ${fmt(score.js_nats, 2)} nats, ` +
      `W1 ${fmt(score.w1)}, S ${fmt(score.separation_power, 2)}`;
    return drawHistogram(element, score.display, {
      title: (labels && labels[score.name] ? labels[score.name].replace(/ \[.*\]$/, "") : score.name) + (score.failing ? " (fails KS)" : ""),
      xTitle: label, statistics,
    });
  }

  // The mean of each per-layer observable group (e.g. e_layer_00 .. e_layer_44), generated
  // next to reference, with the error of the mean std / sqrt(N).
  function drawLayerProfile(element, scores, prefix) {
    const quantity = prefix === "e" ? "energy" : prefix.replace("_", " ");
    const layers = scores.filter((s) => s.name.startsWith(`${prefix}_layer_`))
      .map((s) => ({ layer: Number(s.name.slice(prefix.length + 7)), score: s }))
      .sort((a, b) => a.layer - b.layer);
    const series = (mean, std, n, label, colour, offset) => ({
      x: layers.map((l) => l.layer + offset), y: layers.map((l) => l.score[mean]),
      error_y: { type: "data", array: layers.map((l) => l.score[std] / Math.sqrt(l.score[n])), color: colour },
      mode: "lines+markers", name: label, line: { color: colour, shape: "hvh", width: 1.4 },
      marker: { color: colour, size: 5 },
    });
    const unit = layers.length ? layers[0].score.unit : "";
    const means = layers.flatMap((l) => [l.score.reference_mean, l.score.candidate_mean]).filter((m) => m > 0);
    const logY = means.length === 2 * layers.length && spansDecades(Math.min(...means), Math.max(...means));
    const n = layers.length ? layers[0].score : { n_reference: 0, n_candidate: 0 };
    const traces = [
      series("reference_mean", "reference_std", "n_reference", `reference (N=${n.n_reference})`, REFERENCE, -0.08),
      series("candidate_mean", "candidate_std", "n_candidate", `generated (N=${n.n_candidate})`, GENERATED, 0.08),
    ];
    const layout = {
      font: FONT, margin: { l: 64, r: 10, t: 60, b: 44 }, height: 350,
      title: titleAtTop(`mean ${quantity} per layer`),
      xaxis: { title: { text: "layer" }, dtick: layers.length > 20 ? 5 : 1 },
      yaxis: { title: { text: axisTitle(`mean ${quantity}`, unit) }, type: logY ? "log" : "linear" },
      legend: LEGEND,
    };
    return newPlot(element, traces, layout);
  }

  // Losses (left axis) and the selection metric (right axis) against the generator step.
  function drawHistory(element, history) {
    const traces = [];
    const names = history.losses.length ? Object.keys(history.losses[0].losses) : [];
    for (const name of names) {
      traces.push({ x: history.losses.map((p) => p.step), y: history.losses.map((p) => p.losses[name]),
                    mode: "lines", name: `loss: ${name}` });
    }
    traces.push({ x: history.validations.map((p) => p.step), y: history.validations.map((p) => p.metric),
                  mode: "lines+markers", name: "selection metric", yaxis: "y2",
                  line: { color: "#000", dash: "dot" } });
    const shapes = history.best_step === null ? [] : [{ type: "line", yref: "paper", y0: 0, y1: 1,
      x0: history.best_step, x1: history.best_step, line: { color: GENERATED, dash: "dash", width: 1 } }];
    const layout = {
      font: FONT, margin: { l: 60, r: 60, t: 28, b: 44 }, height: 320, shapes,
      title: { text: `${history.selection_metric || "selection metric"}; dashed red: the served checkpoint`, font: { size: 13 } },
      xaxis: { title: { text: "generator step" } },
      yaxis: { title: { text: "loss" } },
      yaxis2: { title: { text: "selection metric" }, overlaying: "y", side: "right" },
      legend: { orientation: "h", y: -0.25 },
    };
    return newPlot(element, traces, layout);
  }

  return { drawObservable, drawHistogram, drawLayerProfile, drawHistory, fmt, fmtP, newPlot, titleAtTop, LEGEND,
           CONFIG, FONT, REFERENCE, GENERATED };
})();
