// The service's HTTP API as the page uses it, with the API key kept for this browser tab.
// The key lives in sessionStorage (gone when the tab closes) and goes out as the Bearer token.
"use strict";

const HepganApi = (() => {
  const KEY_STORAGE = "hepgan.apiKey";
  const root = document.body.dataset.root || "";
  const keyRequired = document.body.dataset.keyRequired === "true";

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  function storedKey() {
    return sessionStorage.getItem(KEY_STORAGE);
  }

  function setKey(key) {
    sessionStorage.setItem(KEY_STORAGE, key);
  }

  function forgetKey() {
    sessionStorage.removeItem(KEY_STORAGE);
  }

  function needsKey() {
    return keyRequired && !storedKey();
  }

  function headers(extra) {
    const key = storedKey();
    return Object.assign({}, extra, key ? { Authorization: `Bearer ${key}` } : {});
  }

  // The message of an error response: FastAPI's {"detail": ...} (a string or a list of
  // {loc, msg}), else the status line.
  async function errorOf(response) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      if (typeof body.detail === "string") detail = body.detail;
      else if (Array.isArray(body.detail)) {
        detail = body.detail.map((item) => `${(item.loc || []).join(".")}: ${item.msg}`).join("; ");
      }
    } catch (ignored) {
      // not JSON: keep the status line
    }
    if (response.status === 401) {
      detail = storedKey()
        ? "The API key was refused (401): it is wrong. Enter the right key."
        : "This service needs an API key (401). Enter it to continue.";
    }
    return new ApiError(response.status, detail);
  }

  async function call(path, options = {}) {
    const response = await fetch(root + path, Object.assign({}, options, {
      headers: headers(options.headers),
    }));
    if (!response.ok) throw await errorOf(response);
    return response;
  }

  async function getJson(path) {
    return (await call(path)).json();
  }

  // POST a generate request in the JSON format and read only its head: the JSON encoder
  // sends {model, n_events, seed, names, units, report, "features": [ first, and the
  // events after it. The head is parsed at the first top-level "features" key and the
  // rest of the stream is cancelled, so the page never holds the events.
  async function generateReport(name, body) {
    const response = await call(`/v1/models/${encodeURIComponent(name)}/generate`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(Object.assign({}, body, { format: "json", histograms: true })),
    });
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const marker = ',"features":[';
    let text = "";
    let searchFrom = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (value) text += decoder.decode(value, { stream: true });
      let at = text.indexOf(marker, searchFrom);
      while (at >= 0) {
        try {
          const head = JSON.parse(text.slice(0, at) + "}");
          reader.cancel().catch(() => {});
          return { head, headers: response.headers };
        } catch (notTopLevel) {
          at = text.indexOf(marker, at + 1);
        }
      }
      searchFrom = Math.max(0, text.length - marker.length);
      if (done) throw new ApiError(0, "the response ended before its report");
    }
  }

  // Fetch the batch in `format` (same body, so the same seed gives the same events) and
  // hand it to the browser as a file download.
  async function download(name, body, format) {
    const response = await call(`/v1/models/${encodeURIComponent(name)}/generate`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(Object.assign({}, body, { format })),
    });
    const blob = await response.blob();
    const disposition = response.headers.get("Content-Disposition") || "";
    const match = /filename="([^"]+)"/.exec(disposition);
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = match ? match[1] : `${name}.${format}`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  }

  return { ApiError, root, keyRequired, storedKey, setKey, forgetKey, needsKey, getJson,
           generateReport, download };
})();
