// Small SVG charts drawn with the DOM (no library, no CDN, no innerHTML): stacked columns, bars, week lines.
"use strict";

(function () {
  const NS = "http://www.w3.org/2000/svg";

  function el(name, attrs, text) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function niceMax(value) {
    if (value <= 5) return 5;
    const power = Math.pow(10, Math.floor(Math.log10(value)));
    for (const step of [1, 2, 2.5, 5, 10]) {
      if (step * power >= value) return step * power;
    }
    return 10 * power;
  }

  // Columns per time bucket, each stacked by series. series: [{label, color, values: []}]
  function stackedColumns(container, labels, series, options) {
    const opts = Object.assign({ width: 640, height: 170, tickEvery: 10 }, options || {});
    container.replaceChildren();
    const { width, height } = opts;
    const left = 34, right = 6, top = 8, bottom = 20;
    const n = labels.length;
    const totals = labels.map((_, i) => series.reduce((s, line) => s + (line.values[i] || 0), 0));
    const max = niceMax(Math.max(1, ...totals));
    const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img" });
    const plotW = width - left - right, plotH = height - top - bottom;
    for (let g = 0; g <= 4; g++) {
      const y = top + plotH - (plotH * g) / 4;
      svg.appendChild(el("line", { x1: left, x2: width - right, y1: y, y2: y, class: "grid" }));
      svg.appendChild(el("text", { x: left - 4, y: y + 3, class: "axis", "text-anchor": "end" },
        String(Math.round((max * g) / 4))));
    }
    const slot = plotW / n, barW = Math.max(1, slot * 0.78);
    for (let i = 0; i < n; i++) {
      let y = top + plotH;
      for (const line of series) {
        const v = line.values[i] || 0;
        if (!v) continue;
        const h = (plotH * v) / max;
        y -= h;
        const rect = el("rect", { x: left + i * slot + (slot - barW) / 2, y, width: barW, height: h, fill: line.color });
        rect.appendChild(el("title", {}, `${labels[i]} · ${line.label}: ${v}`));
        svg.appendChild(rect);
      }
      if (i % opts.tickEvery === 0 || i === n - 1) {
        svg.appendChild(el("text", { x: left + i * slot + slot / 2, y: height - 6, class: "axis", "text-anchor": "middle" },
          labels[i]));
      }
    }
    container.appendChild(svg);
  }

  // Horizontal bars: rows [{label, value, color, note}]
  function hbars(container, rows, options) {
    const opts = Object.assign({ width: 420, row: 19, labelWidth: 130 }, options || {});
    container.replaceChildren();
    const height = Math.max(opts.row * rows.length + 4, 24);
    const max = Math.max(1, ...rows.map((r) => r.value));
    const svg = el("svg", { viewBox: `0 0 ${opts.width} ${height}`, class: "chart", role: "img" });
    const plotW = opts.width - opts.labelWidth - 44;
    rows.forEach((r, i) => {
      const y = 2 + i * opts.row;
      svg.appendChild(el("text", { x: opts.labelWidth - 6, y: y + opts.row * 0.68, class: "label", "text-anchor": "end" },
        r.label));
      const w = r.value ? Math.max(2, (plotW * r.value) / max) : 0;
      svg.appendChild(el("rect", { x: opts.labelWidth, y: y + 2, width: plotW, height: opts.row - 5, class: "track" }));
      const bar = el("rect", { x: opts.labelWidth, y: y + 2, width: w, height: opts.row - 5, fill: r.color || "#3b6fd8", rx: 2 });
      bar.appendChild(el("title", {}, `${r.label}: ${r.value}${r.note ? " · " + r.note : ""}`));
      svg.appendChild(bar);
      svg.appendChild(el("text", { x: opts.labelWidth + w + 4, y: y + opts.row * 0.68, class: "value" }, String(r.value)));
    });
    container.appendChild(svg);
  }

  // Groups of bars side by side: groups [{label, values: [{key, value, color}]}]
  function groupedColumns(container, groups, options) {
    const opts = Object.assign({ width: 420, height: 150 }, options || {});
    container.replaceChildren();
    const { width, height } = opts;
    const left = 26, right = 4, top = 14, bottom = 22;
    const max = niceMax(Math.max(1, ...groups.flatMap((g) => g.values.map((v) => v.value))));
    const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img" });
    const plotW = width - left - right, plotH = height - top - bottom;
    for (let g = 0; g <= 2; g++) {
      const y = top + plotH - (plotH * g) / 2;
      svg.appendChild(el("line", { x1: left, x2: width - right, y1: y, y2: y, class: "grid" }));
      svg.appendChild(el("text", { x: left - 4, y: y + 3, class: "axis", "text-anchor": "end" }, String((max * g) / 2)));
    }
    const slot = plotW / Math.max(1, groups.length);
    groups.forEach((group, gi) => {
      const k = group.values.length, barW = (slot * 0.7) / k;
      group.values.forEach((v, vi) => {
        const h = (plotH * v.value) / max;
        const x = left + gi * slot + slot * 0.15 + vi * barW;
        const rect = el("rect", { x, y: top + plotH - h, width: barW - 2, height: h, fill: v.color, rx: 2 });
        rect.appendChild(el("title", {}, `${group.label} · ${v.key}: ${v.value}`));
        svg.appendChild(rect);
        svg.appendChild(el("text", { x: x + (barW - 2) / 2, y: top + plotH - h - 3, class: "value", "text-anchor": "middle" },
          String(v.value)));
      });
      svg.appendChild(el("text", { x: left + gi * slot + slot / 2, y: height - 7, class: "axis", "text-anchor": "middle" },
        group.label));
    });
    container.appendChild(svg);
  }

  // A small line chart over weeks: series [{code, label, color, values: [number|null]}], one dot per value.
  // Gaps (null) break the line. Each dot carries data-locality, data-week and data-value for tests and tooltips.
  function weekLines(container, weeks, series, options) {
    const opts = Object.assign({ width: 340, height: 118, max: null, format: String, tick: String }, options || {});
    container.replaceChildren();
    const { width, height } = opts;
    const left = 40, right = 18, top = 8, bottom = 18;
    const values = series.flatMap((s) => s.values.filter((v) => v !== null && v !== undefined));
    const max = opts.max || niceMax(Math.max(0, ...values)) || 1;
    const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img" });
    const plotW = width - left - right, plotH = height - top - bottom;
    const x = (i) => left + (weeks.length > 1 ? (plotW * i) / (weeks.length - 1) : plotW / 2);
    const y = (v) => top + plotH - (plotH * Math.min(v, max)) / max;
    for (let g = 0; g <= 2; g++) {
      const gy = top + plotH - (plotH * g) / 2;
      svg.appendChild(el("line", { x1: left, x2: width - right, y1: gy, y2: gy, class: "grid" }));
      svg.appendChild(el("text", { x: left - 4, y: gy + 3, class: "axis", "text-anchor": "end" }, opts.tick((max * g) / 2)));
    }
    weeks.forEach((week, i) => {
      if (weeks.length > 6 && i % 2 !== (weeks.length - 1) % 2) return;
      svg.appendChild(el("text", { x: x(i), y: height - 5, class: "axis", "text-anchor": "middle" }, week.slice(5)));
    });
    for (const line of series) {
      const segments = [[]];
      line.values.forEach((v, i) => {
        if (v === null || v === undefined) segments.push([]);
        else segments[segments.length - 1].push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
      });
      for (const points of segments.filter((p) => p.length > 1)) {
        svg.appendChild(el("path", { d: "M" + points.join(" L"), fill: "none", stroke: line.color, "stroke-width": 1.6 }));
      }
      line.values.forEach((v, i) => {
        if (v === null || v === undefined) return;
        const dot = el("circle", { cx: x(i), cy: y(v), r: 3, fill: line.color, class: "dot",
          "data-locality": line.code, "data-week": weeks[i], "data-value": v });
        dot.appendChild(el("title", {}, `${line.label} · ${weeks[i]}: ${opts.format(v)}${line.notes ? " · " + line.notes[i] : ""}`));
        svg.appendChild(dot);
      });
    }
    container.appendChild(svg);
  }

  window.Charts = { stackedColumns, hbars, groupedColumns, weekLines };
})();
