// Plotly figures of the page: training history, reference vs generated histograms with a
// ratio panel, and the mean shower per layer. Every number comes from the service (the
// report's own binned histograms); nothing is re-binned here.
"use strict";

const HepganPlots = (() => {
  const REFERENCE = "#1b1f24";
  const GENERATED = "#d1242f";
  const CONFIG = { displaylogo: false, responsive: true };
  const FONT = { family: "system-ui, sans-serif", size: 12 };

  function axisTitle(name, unit) {
    return unit ? `${name} [${unit}]` : name;
  }

  function fmt(value, digits = 3) {
    if (value === null || value === undefined) return "n/a";
    if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5)) return value.toExponential(digits - 1);
    return Number(value.toPrecision(digits)).toString();
  }

  // Densities counts / (N width) with Poisson errors sqrt(counts) / (N width), on bins of
  // non-zero width (tied reference-quantile edges make empty zero-width bins).
  function densities(edges, counts) {
    const total = counts.reduce((a, b) => a + b, 0) || 1;
    const out = { centre: [], density: [], error: [], low: [], high: [], counts: [] };
    for (let i = 0; i < counts.length; i++) {
      const width = edges[i + 1] - edges[i];
      if (!(width > 0)) continue;
      out.low.push(edges[i]);
      out.high.push(edges[i + 1]);
      out.centre.push(0.5 * (edges[i] + edges[i + 1]));
      out.density.push(counts[i] / (total * width));
      out.error.push(Math.sqrt(counts[i]) / (total * width));
      out.counts.push(counts[i]);
    }
    return out;
  }

  // A step outline through the bins: x = edges, y = value held across each bin.
  function steps(bins, values) {
    const x = [];
    const y = [];
    for (let i = 0; i < values.length; i++) {
      x.push(bins.low[i], bins.high[i]);
      y.push(values[i], values[i]);
    }
    return { x, y };
  }

  function histogramTraces(bins, label, colour) {
    const outline = steps(bins, bins.density);
    return [
      { x: outline.x, y: outline.y, mode: "lines", name: label, legendgroup: label,
        line: { color: colour, width: 1.6 }, xaxis: "x", yaxis: "y", hoverinfo: "skip" },
      { x: bins.centre, y: bins.density, mode: "markers", showlegend: false, legendgroup: label,
        marker: { color: colour, size: 3 }, xaxis: "x", yaxis: "y",
        error_y: { type: "data", array: bins.error, color: colour, thickness: 1, width: 0 } },
    ];
  }

  // generated / reference per bin, unit-normalised, with error ratio sqrt(1/c + 1/r).
  function ratioTrace(reference, generated) {
    const x = [];
    const y = [];
    const error = [];
    const nRef = reference.counts.reduce((a, b) => a + b, 0);
    const nGen = generated.counts.reduce((a, b) => a + b, 0);
    for (let i = 0; i < reference.counts.length; i++) {
      const r = reference.counts[i];
      const c = generated.counts[i];
      if (r === 0 || c === 0) continue;
      const ratio = (c / nGen) / (r / nRef);
      x.push(reference.centre[i]);
      y.push(ratio);
      error.push(ratio * Math.sqrt(1 / c + 1 / r));
    }
    return { x, y, mode: "markers", showlegend: false, marker: { color: GENERATED, size: 4 },
             error_y: { type: "data", array: error, color: GENERATED, thickness: 1, width: 0 },
             xaxis: "x", yaxis: "y2", name: "generated / reference" };
  }

  // The x range shown first: the interior (reference-quantile) edges padded by a tenth of
  // their span, within the outer edges. The outer bins run to the samples' extremes, which
  // would squeeze the bulk into a corner; a double click shows everything.
  function bulkRange(edges) {
    const n = edges.length;
    if (n < 4) return [edges[0], edges[n - 1]];
    const pad = 0.1 * (edges[n - 2] - edges[1]);
    return [Math.max(edges[0], edges[1] - pad), Math.min(edges[n - 1], edges[n - 2] + pad)];
  }

  // One observable: reference and generated densities on the report's bins (main panel),
  // their ratio (lower panel, own y axis), the statistics as a legend entry.
  function drawObservable(element, score) {
    const h = score.histogram;
    const reference = densities(h.edges, h.reference_counts);
    const generated = densities(h.edges, h.candidate_counts);
    const statistics = `KS ${fmt(score.ks)} (p ${fmt(score.ks_pvalue, 2)}), JS ${fmt(score.js_nats, 2)} nats, ` +
      `W1 ${fmt(score.w1)}, S ${fmt(score.separation_power, 2)}`;
    const traces = [
      ...histogramTraces(reference, `reference (N=${score.n_reference})`, REFERENCE),
      ...histogramTraces(generated, `generated (N=${score.n_candidate})`, GENERATED),
      { x: [null], y: [null], mode: "lines", name: statistics, line: { width: 0 },
        xaxis: "x", yaxis: "y", hoverinfo: "skip" },
      ratioTrace(reference, generated),
    ];
    const layout = {
      font: FONT, margin: { l: 60, r: 10, t: 28, b: 56 }, height: 360,
      title: { text: score.name + (score.failing ? " (fails KS)" : ""), font: { size: 13 } },
      showlegend: true, legend: { x: 1, xanchor: "right", y: 1, bgcolor: "rgba(255,255,255,.7)", font: { size: 10 } },
      xaxis: { anchor: "y2", automargin: true, range: bulkRange(h.edges), title: { text: axisTitle(score.name, score.unit) } },
      yaxis: { domain: [0.32, 1], title: { text: "density" }, rangemode: "tozero" },
      yaxis2: { domain: [0, 0.24], range: [0.5, 1.5], title: { text: "gen / ref" } },
      shapes: [{ type: "line", xref: "paper", x0: 0, x1: 1, yref: "y2", y0: 1, y1: 1,
                 line: { color: REFERENCE, width: 1, dash: "dot" } }],
    };
    return Plotly.newPlot(element, traces, layout, CONFIG);
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
    const n = layers.length ? layers[0].score : { n_reference: 0, n_candidate: 0 };
    const traces = [
      series("reference_mean", "reference_std", "n_reference", `reference (N=${n.n_reference})`, REFERENCE, -0.08),
      series("candidate_mean", "candidate_std", "n_candidate", `generated (N=${n.n_candidate})`, GENERATED, 0.08),
    ];
    const layout = {
      font: FONT, margin: { l: 64, r: 10, t: 28, b: 44 }, height: 330,
      title: { text: `mean ${quantity} per layer`, font: { size: 13 } },
      xaxis: { title: { text: "layer" }, dtick: layers.length > 20 ? 5 : 1 },
      yaxis: { title: { text: axisTitle(`mean ${quantity}`, unit) } },
      legend: { x: 1, xanchor: "right", y: 1 },
    };
    return Plotly.newPlot(element, traces, layout, CONFIG);
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
    return Plotly.newPlot(element, traces, layout, CONFIG);
  }

  return { drawObservable, drawLayerProfile, drawHistory, fmt };
})();
