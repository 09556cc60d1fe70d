"use strict";
// The attribution-graph viewer: one SVG per graph section, nodes by (layer, position), edges by
// weight; hover shows influence, a click shows the node's links and, for a feature, its card.
// Every text from the data is set with textContent, never parsed as HTML.
(function () {
  const NS = "http://www.w3.org/2000/svg";
  const ROW = 26, PAD = 40, WIDTH = 1100;

  function svgEl(tag, attrs) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
  }

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function layout(data, col) {
    const cells = new Map();
    for (const node of data.nodes) {
      const key = node.layer + ":" + node.pos;
      if (!cells.has(key)) cells.set(key, []);
      cells.get(key).push(node);
    }
    for (const group of cells.values()) {
      group.forEach((node, i) => {
        const spread = Math.min(col - 16, 10 * (group.length - 1));
        const offset = group.length > 1 ? -spread / 2 + (spread * i) / (group.length - 1) : 0;
        node.x = PAD + node.pos * col + col / 2 + offset;
        node.y = PAD + (data.layers - node.layer) * ROW;
      });
    }
  }

  function showCard(panel, data, node) {
    const parts = [el("h4", node.label)];
    parts.push(el("p", "influence " + node.influence + (node.act !== undefined ? ", activation " + node.act : "")));
    const card = data.cards[node.id];
    if (card) {
      parts.push(el("p", "promotes: " + card.promoted.map((t) => JSON.stringify(t)).join(" ")));
      for (const context of card.contexts) {
        const line = el("p", null, "context");
        context.tokens.forEach((token, i) => {
          const span = el("span", token, i === context.tokens.length - 1 ? "tok fired" : "tok");
          line.appendChild(span);
        });
        line.appendChild(el("span", "  " + context.activation, "note"));
        parts.push(line);
      }
    }
    const incoming = data.links.filter((l) => data.nodes[l[1]] === node)
      .sort((a, b) => Math.abs(b[2]) - Math.abs(a[2])).slice(0, 8);
    if (incoming.length) {
      parts.push(el("p", "strongest inputs: " + incoming.map((l) => data.nodes[l[0]].label + " (" + l[2] + ")").join(", ")));
    }
    panel.replaceChildren(...parts);
  }

  function draw(view) {
    const data = JSON.parse(view.querySelector(".graph-data").textContent);
    const col = Math.max(86, Math.min(260, WIDTH / data.tokens.length)); // short prompts spread out
    layout(data, col);
    const width = 2 * PAD + data.tokens.length * col;
    const height = 2 * PAD + (data.layers + 1) * ROW;
    const svg = svgEl("svg", { width: width, height: height + 30, class: "graph-svg" });
    data.tokens.forEach((token, pos) => {
      const label = svgEl("text", { x: PAD + pos * col + col / 2, y: height + 20, "text-anchor": "middle", class: "graph-token" });
      label.textContent = token;
      svg.appendChild(label);
    });
    const strongest = Math.max(1e-9, ...data.links.map((l) => Math.abs(l[2])));
    for (const [s, t, w] of data.links) {
      const a = data.nodes[s], b = data.nodes[t];
      svg.appendChild(svgEl("line", {
        x1: a.x, y1: a.y, x2: b.x, y2: b.y, class: "graph-link",
        stroke: w >= 0 ? "#2a6fdb" : "#d9412b", "stroke-width": 0.3 + 3 * Math.abs(w) / strongest,
        "stroke-opacity": 0.55,
      }));
    }
    const panel = view.querySelector(".graph-card");
    data.nodes.forEach((node) => {
      const shape = node.kind === "feature" ? "circle" : "rect";
      const attrs = shape === "circle" ? { cx: node.x, cy: node.y, r: 5 } : { x: node.x - 5, y: node.y - 5, width: 10, height: 10 };
      const mark = svgEl(shape, Object.assign(attrs, { class: "graph-node graph-" + node.kind, "data-node": node.id }));
      const title = svgEl("title", {});
      title.textContent = node.label + " — influence " + node.influence;
      mark.appendChild(title);
      mark.addEventListener("click", () => showCard(panel, data, node));
      svg.appendChild(mark);
    });
    view.querySelector(".graph-canvas").replaceChildren(svg);
  }

  for (const view of document.querySelectorAll(".graph-view")) {
    try { draw(view); } catch (error) { console.error(error); }
  }
})();
