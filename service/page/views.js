// The page's views: the model list (/), a model (/models/{name}) with its card, training
// history and generate form, and the validation of a generated batch.
"use strict";

(() => {
  const api = HepganApi;
  const plots = HepganPlots;
  const calorimeter = HepganCalorimeter;
  const app = document.getElementById("app");
  const FORMATS = ["json", "npz", "arrow", "root"];

  // --- small DOM helpers ---------------------------------------------------------------
  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes)) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value);
    }
    for (const child of children.flat(Infinity)) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  function facts(pairs) {
    return el("dl", { class: "facts" },
      pairs.filter(([, v]) => v !== null && v !== undefined && v !== "")
        .map(([k, v]) => [el("dt", { text: k }), el("dd", {}, v)]));
  }

  function statusBadge(status) {
    return el("span", { class: `status ${status}`, "data-status": status, text: status });
  }

  function showError(container, error) {
    container.append(el("div", { class: "error", role: "alert", text: error.message || String(error) }));
  }

  // Feature names grouped by stem: voxels[0] .. voxels[359] becomes "voxels[0..359]".
  function featureGroups(names, units) {
    const groups = [];
    names.forEach((name, i) => {
      const match = /^(.*)\[(\d+)\]$/.exec(name);
      const stem = match ? match[1] : name;
      const last = groups[groups.length - 1];
      if (match && last && last.stem === stem && last.unit === units[i]) {
        last.high = Number(match[2]);
      } else {
        groups.push({ stem, unit: units[i], low: match ? Number(match[2]) : null, high: match ? Number(match[2]) : null });
      }
    });
    return groups.map((g) => `${g.low === null ? g.stem : `${g.stem}[${g.low}..${g.high}]`}${g.unit ? ` [${g.unit}]` : ""}`).join(", ");
  }

  function conditionText(card) {
    if (!card.condition_names.length) return "none";
    return card.condition_names.map((name, i) => {
      const range = card.condition_ranges[name];
      const unit = card.condition_units[i] || "";
      return range ? `${name} in [${plots.fmt(range[0], 4)}, ${plots.fmt(range[1], 4)}] ${unit}` : `${name} ${unit}`;
    }).join("; ");
  }

  function provenance(card) {
    const t = card.training;
    if (!t) return el("span", { class: "muted", text: "no training provenance in the card" });
    const files = t.data_files.length
      ? el("ul", {}, t.data_files.map((f) => el("li", {}, el("code", { text: f.name }), ` (${f.size_bytes} bytes, sha256 `, el("code", { text: f.sha256.slice(0, 16) + "\u2026", title: f.sha256 }), ")")))
      : el("span", { class: "muted", text: "in-memory data (no files recorded)" });
    const versions = Object.entries(card.versions || {}).map(([k, v]) => `${k} ${v}`).join(", ");
    return facts([
      ["data files", files],
      ["steps", `${t.steps} (served checkpoint: step ${t.best_step})`],
      ["loss", t.loss],
      ["seed", String(t.seed)],
      ["device", `${t.device}, ${Math.round(t.wall_seconds)} s`],
      ["libraries", versions],
    ]);
  }

  // The validation of the chosen checkpoint, as stored in the card at training time.
  function checkpointValidation(card) {
    const validation = card.validation || {};
    const summary = (validation.reference_report || {}).summary || validation.reference_report;
    const parts = [];
    if (summary && summary.status) {
      parts.push(statusBadge(summary.status), ` worst KS ${plots.fmt(summary.worst_ks)} (${summary.worst_observable}) vs critical ${plots.fmt(summary.ks_critical_value)}; ${summary.n_failing} failing`);
    }
    if (validation.validation_mean_ks !== undefined) {
      parts.push(el("div", { class: "muted", text: `${validation.selection_metric || "selection metric"}: ${plots.fmt(validation.validation_mean_ks)} at step ${validation.best_step}` }));
    }
    return parts.length ? el("div", {}, parts) : el("span", { class: "muted", text: "no validation stored in the card" });
  }

  function cardFacts(name, card) {
    return facts([
      ["kind", card.kind],
      ["features", `${card.feature_names.length}: ${featureGroups(card.feature_names, card.feature_units)}`],
      ["conditions", conditionText(card)],
      ["validation", checkpointValidation(card)],
      ["training", provenance(card)],
    ]);
  }

  // --- API key --------------------------------------------------------------------------
  function keyPrompt(message) {
    app.replaceChildren();
    const input = el("input", { type: "password", id: "api-key", autocomplete: "off", placeholder: "API key" });
    const form = el("form", { class: "key-prompt card", onsubmit: (event) => {
      event.preventDefault();
      if (!input.value) return;
      api.setKey(input.value);
      route();
    } },
    el("h2", { text: "API key" }),
    message ? el("div", { class: "error", role: "alert", id: "key-error", text: message }) : null,
    el("p", { text: "This service asks for an API key. It is kept for this browser tab only and sent as the Bearer token." }),
    input, el("button", { class: "primary", type: "submit", text: "Continue" }));
    app.append(form);
    input.focus();
  }

  // Run a view; a 401 brings the key prompt back with the reason.
  async function guarded(view) {
    try {
      await view();
    } catch (error) {
      if (error.status === 401) {
        api.forgetKey();
        keyPrompt(error.message);
      } else {
        showError(app, error);
      }
    }
  }

  // --- views ------------------------------------------------------------------------------
  // While the service still loads its models (/readyz, no key needed), say so and wait.
  async function untilLoaded() {
    for (;;) {
      const readiness = await (await fetch(`${api.root}/readyz`)).json();
      if (!readiness.loading) return;
      app.replaceChildren(el("p", { class: "notice", id: "loading",
        text: `The service is loading its models (${readiness.models.length} ready so far); this page continues once they are.` }));
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  async function listView() {
    document.title = "hepgan: models";
    const list = await api.getJson("/v1/models");
    const cards = await Promise.all(list.models.map((m) => api.getJson(`/v1/models/${encodeURIComponent(m.name)}`)));
    app.replaceChildren(el("h1", { text: "Models" }));
    if (!cards.length) app.append(el("p", { class: "muted", text: "No model is served." }));
    app.append(el("div", { class: "cards", id: "model-cards" }, cards.map(({ name, card }) =>
      el("article", { class: "card model-card", "data-model": name },
        el("h2", {}, el("a", { href: `${api.root}/models/${encodeURIComponent(name)}`, text: name })),
        card.description ? el("p", { text: card.description }) : null,
        cardFacts(name, card)))));
    const broken = Object.entries(list.broken);
    if (broken.length) {
      app.append(el("h2", { text: "Broken artefacts (not served)" }),
        el("ul", { id: "broken" }, broken.map(([folder, reason]) =>
          el("li", {}, el("code", { text: folder }), `: ${reason}`))));
    }
  }

  async function modelView(name) {
    document.title = `hepgan: ${name}`;
    const [{ card }, history] = await Promise.all([
      api.getJson(`/v1/models/${encodeURIComponent(name)}`),
      api.getJson(`/v1/models/${encodeURIComponent(name)}/history`),
    ]);
    const historyPanel = el("section", { class: "panel", id: "history" }, el("h2", { text: "Training history" }));
    const result = el("section", { id: "result" });
    app.replaceChildren(
      el("p", {}, el("a", { href: `${api.root}/`, text: "\u2190 all models" })),
      el("h1", { text: name }),
      el("section", { class: "panel", id: "card" }, cardFacts(name, card),
        el("details", {}, el("summary", { text: "full model card (model.json)" }),
          el("pre", { class: "card-json", text: JSON.stringify(card, null, 2) }))),
      historyPanel,
      el("section", { class: "panel" }, el("h2", { text: "Generate a batch" }), generateForm(name, card, result)),
      result,
    );
    if (history.available && (history.losses.length || history.validations.length)) {
      const target = el("div", { class: "plot", id: "history-plot" });
      historyPanel.append(el("p", { class: "muted", text: history.message }), target);
      await plots.drawHistory(target, history);
    } else {
      historyPanel.append(el("p", { class: "notice", id: "history-missing", text: history.available ? `${history.message}: nothing recorded yet` : history.message }));
    }
  }

  // `value` to 6 significant digits, rounded towards the inside of [low, high] so a prefilled
  // bound never lies outside the training range.
  function roundInside(value, towards) {
    if (value === 0) return 0;
    const scale = 10 ** (Math.floor(Math.log10(Math.abs(value))) - 5);
    return Number(((towards === "up" ? Math.ceil(value / scale) : Math.floor(value / scale)) * scale).toPrecision(6));
  }

  function conditionFieldset(name, unit, range, index) {
    const id = (suffix) => `cond-${index}-${suffix}`;
    const low = range ? roundInside(range[0], "up") : 0;
    const high = range ? roundInside(range[1], "down") : 1;
    const mode = el("select", { id: id("mode"), name: "mode", "data-condition": name },
      el("option", { value: "reference", text: "from the reference" }),
      el("option", { value: "value", text: "one value" }),
      el("option", { value: "range", text: "a range" }));
    const valueFields = el("div", { class: "mode-fields", "data-mode": "value", hidden: true },
      el("label", {}, `value [${unit}] `, el("input", { type: "number", step: "any", id: id("value"), value: String(Number(((low + high) / 2).toPrecision(6))) })));
    const rangeFields = el("div", { class: "mode-fields", "data-mode": "range", hidden: true },
      el("label", {}, `min [${unit}] `, el("input", { type: "number", step: "any", id: id("min"), value: String(low) })),
      el("label", {}, `max [${unit}] `, el("input", { type: "number", step: "any", id: id("max"), value: String(high) })),
      el("label", {}, "distribution ", el("select", { id: id("distribution") },
        el("option", { value: "uniform", text: "uniform" }), el("option", { value: "log-uniform", text: "log-uniform" }))));
    mode.addEventListener("change", () => {
      valueFields.hidden = mode.value !== "value";
      rangeFields.hidden = mode.value !== "range";
    });
    const rangeText = range ? ` (trained on ${plots.fmt(range[0], 4)} to ${plots.fmt(range[1], 4)} ${unit})` : "";
    return el("fieldset", { "data-condition": name },
      el("legend", { text: `${name}${rangeText}` }), mode, valueFields, rangeFields);
  }

  // The request body the form describes: conditions left "from the reference" are omitted.
  function requestBody(form, card) {
    const number = (id) => Number(form.querySelector(`#${id}`).value);
    const conditions = {};
    card.condition_names.forEach((name, index) => {
      const mode = form.querySelector(`#cond-${index}-mode`).value;
      if (mode === "value") conditions[name] = number(`cond-${index}-value`);
      if (mode === "range") {
        conditions[name] = { min: number(`cond-${index}-min`), max: number(`cond-${index}-max`),
                             distribution: form.querySelector(`#cond-${index}-distribution`).value };
      }
    });
    const body = { n_events: number("n-events"), conditions };
    const seed = form.querySelector("#seed").value;
    if (seed !== "") body.seed = Number(seed);
    return body;
  }

  function generateForm(name, card, result) {
    const button = el("button", { class: "primary", type: "submit", id: "generate", text: "Generate and validate" });
    const form = el("form", { class: "generate", id: "generate-form" },
      el("label", {}, "events ", el("input", { type: "number", id: "n-events", min: "1", step: "1", value: "5000", required: true })),
      el("label", {}, "seed ", el("input", { type: "number", id: "seed", min: "0", step: "1", value: "1" })),
      el("label", {}, "download format ", el("select", { id: "format" }, FORMATS.map((f) => el("option", { value: f, text: f })))),
      card.condition_names.map((c, i) => conditionFieldset(c, card.condition_units[i] || "", card.condition_ranges[c], i)),
      el("p", { class: "muted", text: "The same seed gives the same events: the download links fetch this batch again in each format." }),
      button);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      button.disabled = true;
      result.replaceChildren(el("p", { class: "muted", id: "generating", text: "Generating and validating\u2026" }));
      const body = requestBody(form, card);
      try {
        const { head } = await api.generateReport(name, body);
        await resultView(result, name, body, head, form.querySelector("#format").value);
      } catch (error) {
        result.replaceChildren();
        if (error.status === 401) {
          api.forgetKey();
          keyPrompt(error.message);
        } else {
          showError(result, error);
        }
      } finally {
        button.disabled = false;
      }
    });
    return form;
  }

  // --- the result of a generate --------------------------------------------------------
  function summaryPanel(head) {
    const report = head.report;
    const s = report.summary;
    return el("section", { class: "panel", id: "summary", "data-status": s.status },
      el("h2", {}, "Validation ", statusBadge(s.status)),
      facts([
        ["worst KS", el("span", {}, el("span", { id: "worst-ks", text: plots.fmt(s.worst_ks, 4) }), " in ", el("code", { id: "worst-observable", text: s.worst_observable }))],
        ["KS critical value", el("span", { id: "ks-critical", text: `${plots.fmt(s.ks_critical_value, 4)} (at ${s.significance}, ${s.n_candidate} generated vs ${s.n_reference} reference events)` })],
        ["failures after correction", el("span", { id: "n-failing", text: `${s.n_failing} of ${s.n_observables} (${s.correction})` })],
        ["mean JS", `${plots.fmt(s.mean_js_nats)} nats (noise floor ${plots.fmt(s.js_noise_floor_nats)})`],
        ["max separation power", plots.fmt(s.max_separation_power)],
        ["events validated", report.scope ? report.scope.subsample : String(s.n_candidate)],
        ["why", s.reasons.length ? el("ul", {}, s.reasons.map((r) => el("li", { text: r }))) : "every threshold met"],
        ["extrapolated", s.extrapolated ? "yes: conditions outside the training range" : "no"],
      ]));
  }

  const COLUMNS = [
    ["observable", (s) => s.name, (s) => s.name + (s.unit ? ` [${s.unit}]` : "")],
    ["KS", (s) => s.ks], ["p-value", (s) => s.ks_pvalue, (s) => plots.fmtP(s.ks_pvalue)],
    ["adjusted p", (s) => (s.ks_adjusted_pvalue === null ? -1 : s.ks_adjusted_pvalue), (s) => (s.ks_adjusted_pvalue === null ? "pooled" : plots.fmtP(s.ks_adjusted_pvalue))],
    ["JS [nats]", (s) => s.js_nats], ["W1", (s) => s.w1], ["separation power", (s) => s.separation_power],
  ];

  function scoreTable(scores) {
    const table = el("table", { class: "scores", id: "scores" });
    const tbody = el("tbody");
    let order = { column: 1, direction: -1 };
    const render = () => {
      const [, key] = COLUMNS[order.column];
      const rows = [...scores].sort((a, b) => {
        const x = key(a);
        const y = key(b);
        return order.direction * (typeof x === "string" ? x.localeCompare(y) : x - y);
      });
      tbody.replaceChildren(...rows.map((s) => el("tr", { class: s.failing ? "failing" : "", "data-observable": s.name },
        COLUMNS.map(([, k, show]) => el("td", { text: show ? show(s) : plots.fmt(k(s)) })))));
      header.querySelectorAll("th").forEach((th, i) => th.setAttribute("aria-sort", i === order.column ? (order.direction > 0 ? "ascending" : "descending") : "none"));
    };
    const header = el("tr", {}, COLUMNS.map(([title], i) => el("th", { text: title, onclick: () => {
      order = { column: i, direction: order.column === i ? -order.direction : (i === 0 ? 1 : -1) };
      render();
    } })));
    table.append(el("thead", {}, header), tbody);
    render();
    return el("div", { class: "table-wrap" }, table);
  }

  function downloadLinks(name, body, chosen) {
    const status = el("span", { class: "muted", id: "download-status" });
    const ordered = [chosen, ...FORMATS.filter((f) => f !== chosen)];
    return el("section", { class: "panel downloads", id: "downloads" },
      el("h2", { text: "Download this batch" }),
      el("p", { class: "muted", text: `The same request (seed ${body.seed === undefined ? "none: a new batch each time" : body.seed}) in each format.` }),
      ordered.map((format) => el("button", { type: "button", "data-format": format, text: format, onclick: async () => {
        status.textContent = `fetching ${format}\u2026`;
        try {
          await api.download(name, body, format);
          status.textContent = `${format} downloaded`;
        } catch (error) {
          status.textContent = "";
          showError(status, error);
        }
      } })), status);
  }

  // Response and resolution per incident-energy bin: each sample's value +- its standard error,
  // and the resolutions' difference in combined standard errors.
  function responseTable(section) {
    const pm = (stats, key) => `${plots.fmt(stats[key], 4)} \u00b1 ${plots.fmt(stats[`${key}_error`], 2)}`;
    const pull = (bin) => (bin.candidate.resolution - bin.reference.resolution) /
      Math.hypot(bin.candidate.resolution_error, bin.reference.resolution_error);
    const header = ["E_inc [MeV]", "events gen / ref", "response gen", "response ref", "resolution gen", "resolution ref", "resolution difference [\u03c3]"];
    return el("div", { class: "table-wrap" }, el("table", { class: "scores", id: "response-table" },
      el("thead", {}, el("tr", {}, header.map((title) => el("th", { text: title })))),
      el("tbody", {}, section.energy_bins.map((bin) => el("tr", {},
        el("td", { text: `${plots.fmt(bin.energy_range_mev[0], 4)} to ${plots.fmt(bin.energy_range_mev[1], 4)}` }),
        el("td", { text: `${bin.candidate.n_events} / ${bin.reference.n_events}` }),
        el("td", { text: pm(bin.candidate, "response") }), el("td", { text: pm(bin.reference, "response") }),
        el("td", { text: pm(bin.candidate, "resolution") }), el("td", { text: pm(bin.reference, "resolution") }),
        el("td", { text: plots.fmt(pull(bin), 2) }))))));
  }

  // The calorimeter's own metrics: response and resolution (table and plot), the mean image
  // of a chosen layer, the sparsity per layer and the pooled voxel spectrum.
  async function calorimeterPanel(result, section) {
    const response = el("div", { class: "plot", id: "response-plot" });
    const image = el("div", { class: "plot wide", id: "layer-image" });
    const sparsity = el("div", { class: "plot", id: "sparsity-plot" });
    const spectrum = el("div", { class: "plot", id: "voxel-spectrum" });
    const layers = section.reference_layer_images.length;
    const chooser = el("select", { id: "image-layer" },
      Array.from({ length: layers }, (_, l) => el("option", { value: String(l), text: `layer ${l}` })));
    chooser.addEventListener("change", () => calorimeter.drawLayerImage(image, section, Number(chooser.value)));
    result.append(el("section", { class: "panel", id: "calorimeter" },
      el("h2", { text: "Calorimeter response and resolution (E_tot/E_inc by incident-energy bin)" }),
      section.energy_bins.length ? responseTable(section)
        : el("p", { class: "muted", text: "no incident-energy bin holds enough events of both samples" }),
      el("div", { class: "plots" }, response, sparsity, spectrum),
      el("h2", {}, "Mean shower image per layer ", el("label", {}, chooser)), image));
    await calorimeter.drawResponse(response, section);
    await calorimeter.drawSparsity(sparsity, section);
    if (section.voxel_spectrum && section.voxel_spectrum.display) await calorimeter.drawVoxelSpectrum(spectrum, section);
    else spectrum.replaceChildren(el("p", { class: "muted", text: "no voxel spectrum to draw in this report" }));
    await calorimeter.drawLayerImage(image, section, 0);
  }

  async function resultView(result, name, body, head, format) {
    const scores = head.report.observables;
    const withHistograms = scores.filter((s) => s.display);
    const plotGrid = el("div", { class: "plots", id: "histograms" });
    result.replaceChildren(summaryPanel(head), downloadLinks(name, body, format),
      el("section", { class: "panel" }, el("h2", { text: `Every observable (${scores.length}); click a column to sort` }), scoreTable(scores)));
    const groups = [...new Set(scores.map((s) => /^(.*)_layer_\d+$/.exec(s.name)).filter(Boolean).map((m) => m[1]))];
    if (groups.length) {
      const profiles = el("div", { class: "plots", id: "layer-profiles" });
      result.append(el("section", { class: "panel" }, el("h2", { text: "Mean shower per layer: generated next to reference" }), profiles));
      for (const prefix of groups) {
        const target = el("div", { class: "plot layer-profile", "data-group": prefix });
        profiles.append(target);
        await plots.drawLayerProfile(target, scores, prefix);
      }
    }
    if (head.report.calorimeter) await calorimeterPanel(result, head.report.calorimeter);
    result.append(el("section", { class: "panel" },
      el("h2", { text: "Reference and generated histograms (bins between the 0.5 % and 99.5 % quantiles of both samples; events outside count in N)" }),
      withHistograms.length < scores.length
        ? el("p", { class: "muted", id: "no-display", text: "no display histogram for " +
            `${scores.length - withHistograms.length} observables: this report was made before they were added (schema 4)` })
        : null,
      plotGrid));
    for (const score of withHistograms) {
      const target = el("div", { class: "plot histogram", "data-observable": score.name });
      plotGrid.append(target);
      await plots.drawObservable(target, score, head.report.labels);
    }
    result.dataset.drawn = String(withHistograms.length);
  }

  // --- routing ------------------------------------------------------------------------------
  function route() {
    const forget = document.getElementById("forget-key");
    forget.hidden = !api.storedKey();
    forget.onclick = () => { api.forgetKey(); route(); };
    if (api.needsKey()) {
      keyPrompt(null);
      return;
    }
    const path = window.location.pathname.slice(api.root.length);
    const match = /^\/models\/([^/]+)\/?$/.exec(path);
    guarded(async () => {
      await untilLoaded();
      await (match ? modelView(decodeURIComponent(match[1])) : listView());
    });
  }

  route();
})();
