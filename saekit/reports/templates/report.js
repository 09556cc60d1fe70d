"use strict";
// The feature browser: a searchable, sortable list of latents and, on click, the latent's
// dashboard. Every text from the data is set with textContent, never parsed as HTML.
(function () {
  const data = JSON.parse(document.getElementById("report-data").textContent);
  let dashboards = null; // parsed the first time a dashboard is opened
  const tbody = document.querySelector("#feature-table tbody");
  const search = document.getElementById("search");
  const hideDeadBox = document.getElementById("hide-dead");
  const count = document.getElementById("count");
  const panel = document.getElementById("dashboard");
  let sortKey = "id";
  let sortDir = 1;
  let selected = null;

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function fmt(value, digits) {
    if (value === null || value === undefined) return "";
    if (typeof value !== "number") return String(value);
    return Math.abs(value) < 1e-3 && value !== 0 ? value.toExponential(2) : value.toFixed(digits);
  }

  function matches(feature, query) {
    if (!query) return true;
    if (/^#\d+$/.test(query)) return feature.id === Number(query.slice(1));
    const haystack = [String(feature.id), feature.explanation || "", feature.peak || ""]
      .join(" ").toLowerCase();
    return haystack.includes(query);
  }

  function isDead(feature) {
    return feature.density === 0 || (feature.density == null && feature.max === 0);
  }

  function compare(a, b) {
    const x = a[sortKey], y = b[sortKey];
    if (x === y) return a.id - b.id;
    if (x === undefined || x === null) return 1;
    if (y === undefined || y === null) return -1;
    return (x < y ? -1 : 1) * sortDir;
  }

  function renderList() {
    const query = search.value.trim().toLowerCase();
    const hideDead = hideDeadBox.checked;
    const shown = data.features.filter((f) => matches(f, query) && !(hideDead && isDead(f)))
      .sort(compare);
    if (/^\d+$/.test(query)) { // the latent with exactly this id first
      const exact = shown.findIndex((f) => f.id === Number(query));
      if (exact > 0) shown.unshift(...shown.splice(exact, 1));
    }
    const rows = document.createDocumentFragment();
    for (const feature of shown) {
      const row = el("tr");
      row.dataset.latent = feature.id;
      if (feature.id === selected) row.classList.add("selected");
      row.append(el("td", feature.id), el("td", fmt(feature.density, 4)),
        el("td", fmt(feature.max, 2)), el("td", feature.peak || ""),
        el("td", feature.explanation || ""));
      rows.append(row);
    }
    tbody.replaceChildren(rows);
    count.textContent = shown.length + " of " + data.features.length + " latents";
  }

  function tokenText(id) {
    const text = data.tokens[String(id)];
    return text === undefined ? "<" + id + ">" : text;
  }

  function context(ctx, peak) {
    const line = el("div", null, "context");
    line.append(el("span", fmt(Math.max(...ctx.a), 2), "value"));
    ctx.t.forEach((token, i) => {
      const value = ctx.sa ? ctx.sa[i] : ctx.a[i]; // a split character lit by its run
      const span = el("span", ctx.s ? ctx.s[i] : tokenText(token), "tok");
      if (value > 0) {
        const alpha = Math.min(1, value / (peak || 1));
        span.style.backgroundColor = "rgba(255, 120, 0, " + (0.15 + 0.85 * alpha).toFixed(3) + ")";
      }
      span.title = "activation " + fmt(value, 3);
      line.append(span);
    });
    return line;
  }

  function tokenTable(title, pairs) {
    const box = el("div");
    box.append(el("h4", title));
    const table = el("table");
    for (const [token, logit] of pairs) {
      const row = el("tr");
      row.append(el("td", JSON.stringify(token)), el("td", fmt(logit, 3)));
      table.append(row);
    }
    box.append(table);
    return box;
  }

  function histogram(target, hist) {
    if (!hist.counts.length || typeof Plotly === "undefined") return;
    const centres = hist.counts.map((_, i) => (hist.edges[i] + hist.edges[i + 1]) / 2);
    Plotly.newPlot(target, [{ type: "bar", x: centres, y: hist.counts, marker: { color: "#4c72b0" } }],
      { height: 220, margin: { l: 50, r: 10, t: 10, b: 40 }, xaxis: { title: { text: "activation" } },
        yaxis: { title: { text: "count" } } }, { displayModeBar: false, staticPlot: false });
  }

  async function loadDashboards() {
    const text = document.getElementById("dashboard-data").textContent.trim();
    const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return JSON.parse(await new Response(stream).text());
  }

  async function openDashboard(id) {
    if (dashboards === null) dashboards = await loadDashboards();
    selected = id;
    for (const row of tbody.querySelectorAll("tr.selected")) row.classList.remove("selected");
    const row = tbody.querySelector('tr[data-latent="' + id + '"]');
    if (row) row.classList.add("selected");
    const feature = data.features.find((f) => f.id === id);
    const board = dashboards[String(id)];
    const out = document.createDocumentFragment();
    out.append(el("h3", "Latent " + id));
    out.append(el("p", "density " + fmt(feature.density, 5) + " · max activation " + fmt(feature.max, 3)));
    if (feature.explanation) {
      out.append(el("p", "Explanation: " + feature.explanation, "explanation"));
      const scores = Object.entries(feature.scores || {}).map(([k, v]) => k + " " + fmt(v, 3));
      if (scores.length) out.append(el("p", "Scores: " + scores.join(" · ")));
    }
    if (!board) {
      out.append(el("p", "No dashboard data for this latent.", "note"));
      panel.replaceChildren(out);
      return;
    }
    const overlays = [];
    if (board.images) {
      out.append(el("h4", "Top images (the latent's activation over the spatial grid)"));
      const images = el("div", null, "images");
      for (const image of board.images) {
        const figure = el("figure");
        const plot = el("div", null, "overlay");
        figure.append(plot, el("figcaption", "image " + image.image + " · " + fmt(image.value, 2)));
        images.append(figure);
        overlays.push([plot, image]);
      }
      out.append(images);
    }
    const peak = feature.max || 1;
    if (board.top) {
      out.append(el("h4", "Top activating contexts"));
      if (!board.top.length) out.append(el("p", "This latent never fired on the scanned rows.", "note"));
      for (const ctx of board.top) out.append(context(ctx, peak));
    }
    const plot = el("div", null, "histogram");
    if (board.hist.counts.length) {
      out.append(el("h4", "Activation histogram (nonzero activations)"), plot);
    } else if (!board.top) {
      out.append(el("p", "This latent never fired on the scanned rows.", "note"));
    }
    if (board.promoted || board.suppressed) {
      const tokens = el("div", null, "tokens");
      if (board.promoted) tokens.append(tokenTable("Promoted tokens (logit per unit)", board.promoted));
      if (board.suppressed) tokens.append(tokenTable("Suppressed tokens", board.suppressed));
      out.append(tokens);
    }
    if (board.quantiles && board.quantiles.length) {
      out.append(el("h4", "Samples from lower activation quantiles"));
      let last = -1;
      for (const ctx of board.quantiles) {
        if (ctx.q !== last) { out.append(el("div", "quantile " + (ctx.q + 1), "note")); last = ctx.q; }
        out.append(context(ctx, peak));
      }
    }
    panel.replaceChildren(out);
    histogram(plot, board.hist);
    const strongest = board.images && board.images.length ? board.images[0].value : 1;
    for (const [target, image] of overlays) overlay(target, image, strongest);
  }

  // Inferno's colours, transparent where the latent is silent so the image shows through.
  const HEAT = [[0, "rgba(0, 0, 4, 0)"], [0.15, "rgba(87, 16, 110, 0.35)"],
    [0.4, "rgba(188, 55, 84, 0.6)"], [0.7, "rgba(249, 142, 9, 0.75)"],
    [1, "rgba(252, 255, 164, 0.85)"]];

  function overlay(target, image, strongest) {
    // A plotly heatmap of the grid, smoothed, drawn over the image (row 0 at the top), on one
    // scale for all of a latent's images so weaker ones look weaker.
    if (typeof Plotly === "undefined") return;
    const side = image.grid.length;
    const z = image.grid.slice().reverse();
    Plotly.newPlot(target, [{ type: "heatmap", z: z, colorscale: HEAT, zsmooth: "best",
      showscale: false, zmin: 0, zmax: strongest, hovertemplate: "%{z:.3f}<extra></extra>" }],
      { width: 150, height: 150, margin: { l: 0, r: 0, t: 0, b: 0 },
        xaxis: { visible: false, range: [-0.5, side - 0.5] },
        yaxis: { visible: false, range: [-0.5, side - 0.5] },
        images: [{ source: data.images[String(image.image)], xref: "x", yref: "y", x: -0.5,
          y: side - 0.5, sizex: side, sizey: side, sizing: "stretch", layer: "below",
          xanchor: "left", yanchor: "top" }] },
      { displayModeBar: false });
  }

  search.addEventListener("input", renderList);
  hideDeadBox.addEventListener("change", renderList);
  for (const th of document.querySelectorAll("#feature-table th")) {
    th.addEventListener("click", () => {
      const key = th.dataset.key;
      sortDir = key === sortKey ? -sortDir : (key === "id" ? 1 : -1);
      sortKey = key;
      for (const other of document.querySelectorAll("#feature-table th")) other.className = "";
      th.className = sortDir > 0 ? "sorted-asc" : "sorted-desc";
      renderList();
    });
  }
  tbody.addEventListener("click", (event) => {
    const row = event.target.closest("tr");
    if (row) openDashboard(Number(row.dataset.latent)).catch((error) => {
      panel.replaceChildren(el("p", "Could not open the dashboard: " + error, "note"));
      console.error(error);
    });
  });
  renderList();
})();
