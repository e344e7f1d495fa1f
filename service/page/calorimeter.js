// Plotly figures of the report's calorimeter section: response and resolution by
// incident-energy bin, the mean shower image of a layer (angle x radius) and its ratio,
// the sparsity per layer and the pooled voxel energy spectrum (log-log). Every number
// comes from the report; nothing is re-computed here but generated / reference.
"use strict";

const HepganCalorimeter = (() => {
  const plots = HepganPlots;
  const { REFERENCE, GENERATED, CONFIG, FONT, LEGEND, titleAtTop } = plots;

  // The geometric centre of each energy bin (the bins are log-spaced), MeV.
  function binCentres(section) {
    return section.energy_bins.map((bin) => Math.sqrt(bin.energy_range_mev[0] * bin.energy_range_mev[1]));
  }

  // Response <E_tot/E_inc> (top) and resolution sigma/mean (bottom) against E_inc, each
  // sample with its standard errors; generated points a little to the right.
  function drawResponse(element, section) {
    const x = binCentres(section);
    const series = (sample, key, label, colour, axis, shift, legend) => ({
      x: x.map((e) => e * shift), y: section.energy_bins.map((bin) => bin[sample][key]),
      error_y: { type: "data", array: section.energy_bins.map((bin) => bin[sample][`${key}_error`]), color: colour, thickness: 1.2 },
      mode: "markers", name: label, legendgroup: label, showlegend: legend, marker: { color: colour, size: 7 },
      xaxis: "x", yaxis: axis,
    });
    const traces = [
      series("reference", "response", "reference", REFERENCE, "y", 0.97, true),
      series("candidate", "response", "generated", GENERATED, "y", 1.03, true),
      series("reference", "resolution", "reference", REFERENCE, "y2", 0.97, false),
      series("candidate", "resolution", "generated", GENERATED, "y2", 1.03, false),
    ];
    const layout = {
      font: FONT, margin: { l: 70, r: 10, t: 72, b: 50 }, height: 460, legend: LEGEND,
      title: titleAtTop("response and resolution by incident energy"),
      xaxis: { type: "log", anchor: "y2", title: { text: "E<sub>inc</sub> [MeV]" } },
      yaxis: { domain: [0.55, 1], title: { text: "⟨E<sub>tot</sub>/E<sub>inc</sub>⟩" } },
      yaxis2: { domain: [0, 0.45], title: { text: "σ/mean of E<sub>tot</sub>/E<sub>inc</sub>" }, rangemode: "tozero" },
    };
    return plots.newPlot(element, traces, layout);
  }

  // log10 of a mean image (A x R), null where it is 0 (no energy: no colour).
  function logImage(image) {
    return image.map((row) => row.map((value) => (value > 0 ? Math.log10(value) : null)));
  }

  // The mean image of one layer, angle bin (rows) x radial bin (columns): reference, generated
  // (one log colour scale) and generated / reference (0.5 to 1.5).
  function drawLayerImage(element, section, layer) {
    const reference = section.reference_layer_images[layer];
    const generated = section.candidate_layer_images[layer];
    const ratio = generated.map((row, a) => row.map((value, r) => (reference[a][r] > 0 ? value / reference[a][r] : null)));
    const logs = [...logImage(reference).flat(), ...logImage(generated).flat()].filter((v) => v !== null);
    const [zmin, zmax] = logs.length ? [Math.min(...logs), Math.max(...logs)] : [0, 1];
    const heatmap = (z, axis, extra) => Object.assign({ type: "heatmap", z, xaxis: `x${axis}`, yaxis: `y${axis}`,
      hovertemplate: "radius bin %{x}, angle bin %{y}: %{z:.3g}<extra></extra>" }, extra);
    const energyScale = { zmin, zmax, colorscale: "Viridis", meta: "energy" };
    const traces = [
      heatmap(logImage(reference), "", Object.assign({ name: "reference", showscale: false }, energyScale)),
      heatmap(logImage(generated), "2", Object.assign({ name: "generated",
        colorbar: { title: { text: "log<sub>10</sub> E [MeV]", side: "right" }, x: 0.64, len: 0.9, thickness: 10 } }, energyScale)),
      heatmap(ratio, "3", { name: "generated / reference", zmin: 0.5, zmax: 1.5, colorscale: "RdBu", reversescale: true,
        colorbar: { title: { text: "gen / ref", side: "right" }, x: 1.0, len: 0.9, thickness: 10 } }),
    ];
    const axis = (domain, title) => ({ domain, title: { text: title }, dtick: 1 });
    const layout = {
      font: FONT, margin: { l: 50, r: 20, t: 56, b: 44 }, height: 300,
      title: titleAtTop(`mean shower image, layer ${layer}: reference | generated | generated / reference`),
      xaxis: axis([0, 0.26], "radius bin"), xaxis2: axis([0.35, 0.61], "radius bin"), xaxis3: axis([0.72, 0.97], "radius bin"),
      yaxis: { title: { text: "angle bin" }, dtick: 1 }, yaxis2: { anchor: "x2", dtick: 1 }, yaxis3: { anchor: "x3", dtick: 1 },
    };
    element.style.height = `${layout.height}px`;
    return Plotly.react(element, traces, layout, CONFIG);
  }

  // The mean fraction of each layer's voxels with energy > 0, generated next to reference.
  function drawSparsity(element, section) {
    const layers = section.reference_layer_sparsity.map((_, l) => l);
    const series = (values, label, colour) => ({ x: layers, y: values, mode: "lines+markers", name: label,
      line: { color: colour, shape: "hvh", width: 1.4 }, marker: { color: colour, size: 5 } });
    const traces = [
      series(section.reference_layer_sparsity, "reference", REFERENCE),
      series(section.candidate_layer_sparsity, "generated", GENERATED),
    ];
    const layout = {
      font: FONT, margin: { l: 64, r: 10, t: 72, b: 44 }, height: 460, legend: LEGEND,
      title: titleAtTop("sparsity per layer"),
      xaxis: { title: { text: "layer" }, dtick: layers.length > 20 ? 5 : 1 },
      yaxis: { title: { text: "fraction of voxels with E > 0" }, range: [0, 1.02] },
    };
    return plots.newPlot(element, traces, layout);
  }

  // Every voxel energy > 0 of both samples on log-spaced bins, log-log, as the report's
  // display gives them.
  function drawVoxelSpectrum(element, section) {
    return plots.drawHistogram(element, section.voxel_spectrum.display, {
      title: "pooled voxel energy spectrum", xTitle: "E<sub>voxel</sub> [MeV]", statistics: null,
    });
  }

  return { drawResponse, drawLayerImage, drawSparsity, drawVoxelSpectrum };
})();
