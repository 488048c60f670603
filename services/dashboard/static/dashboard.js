// The operators' dashboard: login, the live stream (server-sent events) and the panels.
// Plain JavaScript, no build step. Every text from the server goes in through textContent.
"use strict";

(function () {
  const I18N = window.I18N;
  const Charts = window.Charts;
  const COLORS = { "310110": "#2563eb", "320505": "#16a34a", "331000": "#ea580c", "341600": "#9333ea" };
  const EXTRA_COLORS = ["#0891b2", "#be185d", "#4d7c0f", "#a16207"];
  const MAX_EVENTS = 1500;
  const SHOWN = 300;
  const PANEL_SECONDS = 5;
  const HANDLING_SECONDS = 30;

  const state = {
    lang: localStorage.getItem("tongban.lang") || ((navigator.language || "zh").startsWith("zh") ? "zh" : "en"),
    session: null,
    meta: { localities: [], statuses: [] },
    vocabulary: {}, // event type without version -> {zh, en}, from /api/vocabulary
    events: new Map(), // id -> message
    order: [], // ids, newest first
    paused: false,
    buffered: [],
    types: new Set(),
    source: null,
    streamState: "connecting",
    panelsTimer: null,
    panels: {},
    fresh: new Set(),
    renderQueued: false,
    gap: 0,
    handlingAt: 0,
  };

  const $ = (id) => document.getElementById(id);
  const t = (key) => (I18N[state.lang] && I18N[state.lang][key]) || I18N.en[key] || key;
  const pick = (pair) => (pair ? pair[state.lang === "zh" ? 0 : 1] : null);

  function make(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k.startsWith("data-")) node.setAttribute(k, v);
      else node[k] = v;
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function baseType(type) { return String(type || "").replace(/\.v\d+$/, ""); }
  function typeLabel(type) {
    const name = state.vocabulary[baseType(type)];
    return (name && name[state.lang === "zh" ? "zh" : "en"]) || type;
  }
  function statusLabel(status) { return pick(I18N.statuses[status]) || status; }
  function colorOf(code) {
    if (COLORS[code]) return COLORS[code];
    const i = state.meta.localities.findIndex((l) => l.code === code);
    return EXTRA_COLORS[Math.max(0, i) % EXTRA_COLORS.length];
  }
  function localityName(code) {
    const loc = state.meta.localities.find((l) => l.code === code);
    if (!loc) return code;
    return state.lang === "zh" ? loc.name_zh : loc.name_en;
  }
  function shortName(code) {
    const name = localityName(code);
    if (state.lang === "zh") return name.replace(/^(上海市|江苏省|浙江省|安徽省)/, "").split("（")[0].slice(0, 8);
    return name.split(",")[0].split("(")[0].split("/")[0].trim().replace(/ District$/, "");
  }
  function badge(code) {
    const b = make("span", { class: "badge", title: `${code} ${localityName(code)}` }, shortName(code));
    b.style.background = colorOf(code);
    return b;
  }
  function clock(iso) {
    const d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleTimeString(state.lang === "zh" ? "zh-CN" : "en-GB", { hour12: false });
  }

  // ------------------------------------------------------------------ i18n

  function applyLanguage() {
    document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.getAttribute("data-i18n"));
    $("lang").textContent = state.lang === "zh" ? "EN" : "中文";
    $("pause").textContent = state.paused ? t("stream.resume") : t("stream.pause");
    renderWho();
    fillFilters();
    setStreamState(state.streamState);
    renderStream();
    renderPanels();
  }

  // ------------------------------------------------------------------ api

  async function api(path, options) {
    const response = await fetch(path, Object.assign({ credentials: "same-origin", headers: { Accept: "application/json" } },
      options || {}));
    if (response.status === 401) {
      showLogin(t("error.session"));
      throw new Error("session");
    }
    if (!response.ok) {
      let detail = response.statusText;
      try { detail = (await response.json()).detail || detail; } catch (e) { /* not JSON */ }
      throw new Error(detail);
    }
    return response.status === 204 ? null : response.json();
  }

  // ------------------------------------------------------------------ login

  function showLogin(message) {
    stopLive();
    state.session = null;
    $("dash-view").hidden = true;
    $("login-view").hidden = false;
    $("logout").hidden = true;
    $("who").hidden = true;
    const error = $("login-error");
    error.hidden = !message;
    error.textContent = message || "";
  }

  async function showDashboard(session) {
    state.session = session;
    state.handlingAt = 0;
    $("login-view").hidden = true;
    $("dash-view").hidden = false;
    $("logout").hidden = false;
    const [meta, vocabulary] = await Promise.all([api("/api/meta"), api("/api/vocabulary")]);
    state.meta = meta;
    state.vocabulary = vocabulary.event_types;
    renderWho();
    fillFilters();
    await loadRecent();
    startLive();
    refreshPanels();
    state.panelsTimer = setInterval(refreshPanels, PANEL_SECONDS * 1000);
  }

  function renderWho() {
    const who = $("who");
    if (!state.session) { who.hidden = true; return; }
    who.hidden = false;
    const scope = state.session.regional ? t("who.regional") : `${state.session.locality} ${localityName(state.session.locality)}`;
    who.textContent = `${state.session.client_id} · ${scope}`;
  }

  async function login(event) {
    event.preventDefault();
    const form = new FormData($("login"));
    const body = { client_id: form.get("client_id"), client_secret: form.get("client_secret"), view: form.get("view") };
    $("login-submit").disabled = true;
    try {
      const response = await fetch("/api/session", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(body),
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) {
        const error = $("login-error");
        error.hidden = false;
        error.textContent = `${t("login.failed")}: ${answer.detail || response.statusText}`;
        return;
      }
      $("login-secret").value = "";
      await showDashboard(answer);
    } finally {
      $("login-submit").disabled = false;
    }
  }

  async function logout() {
    try { await api("/api/session", { method: "DELETE" }); } catch (e) { /* already ended */ }
    showLogin();
  }

  // ------------------------------------------------------------------ live stream

  function setStreamState(name) {
    state.streamState = name;
    const node = $("stream-state");
    const shown = state.paused ? "paused" : name;
    node.className = "state " + shown;
    node.textContent = t("stream." + shown);
  }

  function startLive() {
    stopLive();
    setStreamState("connecting");
    const source = new EventSource("/api/stream");
    state.source = source;
    source.addEventListener("hello", () => setStreamState("live"));
    source.addEventListener("event", (e) => receive(JSON.parse(e.data)));
    source.addEventListener("localities", (e) => {
      const update = JSON.parse(e.data);
      const known = state.events.get(update.id);
      if (known) { known.localities = update.localities; queueRender(); }
    });
    source.addEventListener("gap", (e) => { state.gap += JSON.parse(e.data).missed; queueRender(); });
    source.addEventListener("logout", () => showLogin(t("error.session")));
    source.onerror = () => {
      setStreamState("offline");
      if (source.readyState === EventSource.CLOSED) {
        // The server refused the stream: the session may have ended.
        api("/api/session").then(() => setTimeout(startLive, 2000)).catch(() => {});
      }
    };
  }

  function stopLive() {
    if (state.source) { state.source.close(); state.source = null; }
    if (state.panelsTimer) { clearInterval(state.panelsTimer); state.panelsTimer = null; }
  }

  function receive(message) {
    if (state.paused) { state.buffered.push(message); queueRender(); return; }
    add(message, true);
    queueRender();
  }

  function add(message, fresh) {
    if (!state.events.has(message.id)) {
      state.order.unshift(message.id);
      if (fresh) state.fresh.add(message.id);
    }
    state.events.set(message.id, message);
    if (message.type && !state.types.has(message.type)) { state.types.add(message.type); fillTypeFilter(); }
    while (state.order.length > MAX_EVENTS) state.events.delete(state.order.pop());
  }

  async function loadRecent(caseId) {
    const query = caseId ? `?case_id=${encodeURIComponent(caseId)}&limit=200` : "?limit=200";
    try {
      const rows = await api("/api/events" + query);
      const missing = rows.filter((r) => !state.events.has(r.id)).reverse();
      for (const row of missing) add(row, false);
      // Keep newest first by time when history is merged in.
      state.order.sort((a, b) => String(state.events.get(b).time).localeCompare(String(state.events.get(a).time)));
      queueRender();
    } catch (e) { /* shown by the stream state */ }
  }

  function matches(message) {
    const locality = $("f-locality").value;
    const type = $("f-type").value;
    const caseId = $("f-case").value.trim().toLowerCase();
    if (locality && !(message.localities || []).includes(locality)) return false;
    if (type && message.type !== type) return false;
    if (caseId) {
      const hay = `${message.case_id || ""} ${message.subject || ""}`.toLowerCase();
      if (!hay.includes(caseId)) return false;
    }
    return true;
  }

  function queueRender() {
    if (state.renderQueued) return;
    state.renderQueued = true;
    requestAnimationFrame(() => { state.renderQueued = false; renderStream(); });
  }

  function renderStream() {
    const body = $("stream-body");
    if (!body) return;
    const rows = [];
    let total = 0;
    for (const id of state.order) {
      const m = state.events.get(id);
      if (!m || !matches(m)) continue;
      total += 1;
      if (rows.length < SHOWN) rows.push(m);
    }
    body.replaceChildren(...rows.map(renderRow));
    state.fresh.clear();
    $("stream-empty").hidden = state.order.length > 0;
    $("stream-count").textContent = `${t("stream.shown")} ${Math.min(total, SHOWN)} ${t("stream.of")} ${total}`;
    const waiting = [];
    if (state.buffered.length) waiting.push(`· ${state.buffered.length} ${t("stream.buffered")}`);
    if (state.gap) waiting.push(`· ${t("stream.gap")} ${state.gap}`);
    $("stream-buffered").textContent = waiting.join(" ");
  }

  function renderRow(m) {
    const tr = make("tr", { "data-id": m.id, "data-case": m.case_id || "", "data-type": m.type || "" });
    if (state.fresh.has(m.id)) tr.classList.add("fresh");
    if (m.dead_letter) tr.classList.add("dead");
    tr.appendChild(make("td", { class: "mono" }, clock(m.time)));
    const where = make("td", { class: "where" });
    for (const code of m.localities || []) where.appendChild(badge(code));
    tr.appendChild(where);
    const label = m.dead_letter ? `☠ ${typeLabel(m.type)}` : typeLabel(m.type);
    tr.appendChild(make("td", { class: "type", title: m.type }, label));
    tr.appendChild(make("td", { class: "mono case", title: m.subject || "" }, m.case_id || m.subject || ""));
    tr.addEventListener("click", () => openDetail(m.id));
    return tr;
  }

  function openDetail(id) {
    const m = state.events.get(id);
    if (!m) return;
    const envelope = {
      id: m.id, type: m.type, source: m.source, subject: m.subject, time: m.time,
      specversion: m.specversion, datacontenttype: m.datacontenttype, traceparent: m.traceparent,
      topic: m.topic, partition: m.partition, offset: m.offset, localities: m.localities,
    };
    if (m.dead_letter) envelope.dead_letter = m.dead_letter;
    $("detail-title").textContent = `${t("detail.title")} · ${typeLabel(m.type)}`;
    $("detail-envelope").textContent = JSON.stringify(envelope, null, 2);
    $("detail-data").textContent = m.data !== null && m.data !== undefined ? JSON.stringify(m.data, null, 2) : (m.raw || "");
    $("detail").showModal();
  }

  function togglePause() {
    state.paused = !state.paused;
    if (!state.paused) {
      for (const m of state.buffered) add(m, true);
      state.buffered = [];
    }
    $("pause").textContent = state.paused ? t("stream.resume") : t("stream.pause");
    setStreamState(state.streamState);
    queueRender();
  }

  function fillFilters() {
    const select = $("f-locality");
    const current = select.value;
    const visible = state.session ? state.session.localities : [];
    select.replaceChildren(make("option", { value: "" }, t("filter.all")),
      ...visible.map((code) => make("option", { value: code }, `${code} ${localityName(code)}`)));
    select.value = visible.includes(current) ? current : "";
    fillTypeFilter();
  }

  function fillTypeFilter() {
    const select = $("f-type");
    const current = select.value;
    const types = [...state.types].sort();
    select.replaceChildren(make("option", { value: "" }, t("filter.all")),
      ...types.map((type) => make("option", { value: type }, typeLabel(type))));
    select.value = types.includes(current) ? current : "";
  }

  // ------------------------------------------------------------------ panels

  async function refreshPanels() {
    if (!state.session) return;
    // Weekly figures change slowly and cost more to compute: asked for every HANDLING_SECONDS only.
    const names = ["rates", "funnel", "deadlines", "files", "deliveries", "agreements", "dead-letters", "lag", "webhooks",
      "evaluations"];
    if (Date.now() - state.handlingAt >= HANDLING_SECONDS * 1000) { names.push("handling"); state.handlingAt = Date.now(); }
    const answers = await Promise.allSettled(names.map((n) => api("/api/panels/" + n)));
    answers.forEach((a, i) => { if (a.status === "fulfilled") state.panels[names[i]] = a.value; });
    renderPanels();
  }

  function legend(container, items) {
    container.replaceChildren(...items.map(([label, color]) => {
      const span = make("span");
      const box = make("i");
      box.style.background = color;
      span.append(box, document.createTextNode(label));
      return span;
    }));
  }

  function renderPanels() {
    const p = state.panels;
    if (p.rates) renderRates(p.rates);
    if (p.funnel) renderFunnel(p.funnel);
    if (p.handling) renderHandling(p.handling);
    if (p.deadlines) renderDeadlines(p.deadlines);
    if (p.files) renderFiles(p.files);
    if (p.deliveries) renderDeliveries(p.deliveries);
    if (p.agreements) renderAgreements(p.agreements);
    if (p["dead-letters"]) renderDeadLetters(p["dead-letters"]);
    if (p.lag) renderLag(p.lag);
    if (p.webhooks) renderWebhooks(p.webhooks);
    if (p.evaluations) renderEvaluations(p.evaluations);
  }

  function renderRates(data) {
    $("rates-total").textContent = `${data.total} ${t("panel.rates.total")}`;
    const labels = data.minutes.map((m) => {
      const d = new Date(m * 60000);
      return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
    });
    const series = data.series.map((s) => ({ label: localityName(s.locality), color: colorOf(s.locality), values: s.counts }));
    legend($("rates-legend"), data.series.map((s) => [`${shortName(s.locality)} (${s.counts.reduce((a, b) => a + b, 0)})`,
      colorOf(s.locality)]));
    Charts.stackedColumns($("rates-chart"), labels, series, { width: 760, height: 150 });
    const codes = data.series.map((s) => s.locality);
    const head = make("tr");
    head.append(make("th", {}, t("col.type")), ...codes.map((c) => make("th", {}, shortName(c))), make("th", {}, "Σ"));
    $("rates-types").replaceChildren(head, ...data.types.slice(0, 20).map((row) => {
      const tr = make("tr");
      tr.append(make("td", { title: row.type }, typeLabel(row.type)),
        ...codes.map((c) => make("td", {}, row.by_locality[c] || 0)), make("td", {}, row.count));
      return tr;
    }));
  }

  function renderFunnel(data) {
    $("funnel-total").textContent = `${data.total} ${t("panel.funnel.total")}`;
    const palette = (s) => (s === "rejected" || s === "withdrawn" ? "#9ca3af" : s === "closed" || s === "result_delivered" ? "#15803d" : "#3b6fd8");
    Charts.hbars($("funnel-chart"), data.statuses.map((r) => ({ label: statusLabel(r.status), value: r.count, color: palette(r.status) })),
      { width: 420, row: 17, labelWidth: state.lang === "zh" ? 90 : 150 });
  }

  // Handling time is shown in the unit that suits the slowest locality: seconds under traffic, days in real life.
  function durationUnit(maxSeconds) {
    if (maxSeconds < 120) return { div: 1, key: "unit.s" };
    if (maxSeconds < 2 * 3600) return { div: 60, key: "unit.min" };
    if (maxSeconds < 48 * 3600) return { div: 3600, key: "unit.h" };
    return { div: 86400, key: "unit.d" };
  }

  function renderHandling(data) {
    const handled = data.series.reduce((sum, s) => sum + s.points.reduce((a, p) => a + p.handled, 0), 0);
    $("handling-total").textContent = `${handled} ${t("panel.handling.handled")}`;
    legend($("handling-legend"), data.series.map((s) => [shortName(s.locality), colorOf(s.locality)]));
    const medians = data.series.flatMap((s) => s.points.map((p) => p.median_seconds).filter((v) => v !== null));
    const unit = durationUnit(Math.max(0, ...medians));
    const round = (v) => Math.round(v * 10) / 10;
    const notes = (s) => s.points.map((p) => `${p.handled} ${t("panel.handling.handled")}`);
    Charts.weekLines($("handling-time-chart"), data.weeks, data.series.map((s) => ({
      code: s.locality, label: localityName(s.locality), color: colorOf(s.locality), notes: notes(s),
      values: s.points.map((p) => (p.median_seconds === null ? null : round(p.median_seconds / unit.div))),
    })), { format: (v) => `${v} ${t(unit.key)}`, tick: (v) => `${round(v)}${t(unit.key)}` });
    Charts.weekLines($("handling-rate-chart"), data.weeks, data.series.map((s) => ({
      code: s.locality, label: localityName(s.locality), color: colorOf(s.locality),
      notes: s.points.map((p) => `${p.on_time}/${p.with_deadline} ${t("panel.handling.on_time_of")}`),
      values: s.points.map((p) => (p.on_time_rate === null ? null : Math.round(p.on_time_rate * 1000) / 10)),
    })), { max: 100, format: (v) => `${v}%`, tick: (v) => `${Math.round(v)}%` });
  }

  function renderDeadlines(data) {
    legend($("deadlines-legend"), [[t("panel.deadlines.due_soon"), "#f59e0b"], [t("panel.deadlines.overdue"), "#dc2626"],
      [t("panel.deadlines.provisional"), "#94a3b8"]]);
    Charts.groupedColumns($("deadlines-chart"), data.owners.map((o) => ({
      label: shortName(o.locality),
      values: [
        { key: t("panel.deadlines.due_soon"), value: o.due_soon, color: "#f59e0b" },
        { key: t("panel.deadlines.overdue"), value: o.overdue, color: "#dc2626" },
        { key: t("panel.deadlines.provisional"), value: o.provisional, color: "#94a3b8" },
      ],
    })), { width: 420, height: 130 });
    $("deadlines-cases").replaceChildren(...data.cases.slice(0, 6).map((c) => {
      const tr = make("tr");
      const where = make("td");
      where.appendChild(badge(c.owner));
      tr.append(make("td", { class: "mono" }, String(c.case_id).slice(0, 13)), where,
        make("td", {}, c.state === "overdue" ? t("panel.deadlines.overdue") : t("panel.deadlines.due_soon")),
        make("td", { class: "mono" }, c.due_on || ""));
      return tr;
    }));
  }

  function renderFiles(data) {
    $("files-none").hidden = data.cases.length > 0;
    $("files-body").replaceChildren(...data.cases.slice(0, 8).map((c) => {
      const tr = make("tr");
      const route = make("td");
      if (c.accepting_locality) route.appendChild(badge(c.accepting_locality));
      route.appendChild(document.createTextNode("→ "));
      for (const owner of c.owning_localities) route.appendChild(badge(owner));
      const done = c.complete === null ? "" : (c.complete ? t("panel.files.complete") : t("panel.files.incomplete"));
      tr.append(make("td", { class: "mono", title: c.case_id }, String(c.case_id).slice(0, 13)), route,
        make("td", { class: "mono" }, String(c.files_in)), make("td", { class: c.complete === false ? "bad" : "" }, done));
      return tr;
    }));
  }

  function renderDeliveries(data) {
    $("deliveries-total").textContent = `${data.total} ${t("panel.deliveries.total")}`;
    $("deliveries-status").replaceChildren(...Object.entries(data.by_status).sort().map(([s, n]) =>
      make("span", { class: "chip" + (s === "exception" || s === "returned" ? " bad" : "") }, `${statusLabel(s)} ${n}`)));
    $("deliveries-none").hidden = data.exceptions.length > 0;
    $("deliveries-body").replaceChildren(...data.exceptions.slice(0, 8).map((w) => {
      const tr = make("tr");
      const route = make("td");
      if (w.sender_locality) route.appendChild(badge(w.sender_locality));
      route.appendChild(document.createTextNode("→ "));
      if (w.receiver_locality) route.appendChild(badge(w.receiver_locality));
      tr.append(make("td", { class: "mono", title: w.case_id || "" }, w.waybill_number), route,
        make("td", {}, statusLabel(w.status) + (w.late ? ` · ${t("late")}` : "")),
        make("td", { title: w.reason || "" }, w.reason || ""));
      return tr;
    }));
  }

  function renderAgreements(data) {
    $("agreements-none").hidden = data.agreements.length > 0;
    $("agreements-body").replaceChildren(...data.agreements.slice(0, 8).map((a) => {
      const tr = make("tr");
      const parties = make("td");
      for (const code of a.parties) {
        const signed = a.signed_parties.includes(code);
        parties.appendChild(make("span", { class: "sig " + (signed ? "yes" : "no"),
          title: `${localityName(code)}: ${signed ? t("panel.agreements.signed") : t("panel.agreements.unsigned")}` },
          `${signed ? "✔" : "…"} ${shortName(code)}`));
      }
      tr.append(make("td", { class: "mono", title: a.agreement_id }, a.agreement_id),
        make("td", { class: a.status === "active" ? "status-active" : "" }, statusLabel(a.status)), parties);
      return tr;
    }));
  }

  function renderDeadLetters(data) {
    $("dead-total").textContent = `${data.total} ${t("panel.dead.total")}`;
    $("dead-none").hidden = data.reasons.length > 0;
    Charts.hbars($("dead-chart"), data.reasons.slice(0, 10).map((r) => ({
      label: `${pick(I18N.reasons[r.reason_class]) || r.reason_class} · ${r.group.replace("tongban-", "")}`,
      value: r.count, color: "#c0262d", note: r.example,
    })), { width: 420, row: 18, labelWidth: 190 });
  }

  function renderLag(data) {
    $("lag-source").textContent = t("panel.lag.source." + data.source);
    const error = $("lag-error");
    error.hidden = !data.error;
    error.textContent = data.error || "";
    const codes = [...new Set(data.rows.map((r) => r.locality))];
    const services = [...new Set(data.rows.map((r) => r.service))].sort();
    const head = make("tr");
    head.append(make("th", {}, t("panel.lag.service")), ...codes.map((c) => {
      const th = make("th");
      th.appendChild(badge(c));
      return th;
    }));
    $("lag-head").replaceChildren(head);
    const max = Math.max(1, ...data.rows.map((r) => r.lag));
    $("lag-body").replaceChildren(...services.map((service) => {
      const tr = make("tr", { "data-service": service });
      tr.appendChild(make("td", {}, service));
      for (const code of codes) {
        const row = data.rows.find((r) => r.service === service && r.locality === code);
        const td = make("td", { class: "num", title: row ? `${row.topic}: ${row.committed}/${row.end}` : "" },
          row ? row.lag : "–");
        if (row && row.lag > 0) td.style.background = `rgba(220, 38, 38, ${0.12 + 0.5 * (row.lag / max)})`;
        tr.appendChild(td);
      }
      return tr;
    }));
  }

  // An age or a latency in the unit that suits it.
  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    if (seconds < 10) return `${Math.round(seconds * 100) / 100}${t("unit.s")}`;
    const unit = durationUnit(seconds);
    return `${Math.round((seconds / unit.div) * 10) / 10}${t(unit.key)}`;
  }

  // Failing subscriptions are alerts above the panels; the panel has each locality's backlog and latency.
  function renderWebhooks(data) {
    const alerts = $("alerts");
    alerts.hidden = data.failing.length === 0;
    $("alerts-list").replaceChildren(...data.failing.map((f) => {
      const li = make("li", { "data-subscription": f.subscription_id, "data-locality": f.locality });
      li.append(badge(f.locality), make("span", { class: "mono" }, f.subscription_id),
        document.createTextNode(` → ${f.url} · ${t("alert.webhooks.since")} ${f.failing_since ? clock(f.failing_since) : "?"}`
          + ` · ${f.undelivered} ${t("alert.webhooks.waiting")}` + (f.last_error ? ` · ${f.last_error}` : "")));
      return li;
    }));
    $("webhooks-total").textContent = data.failing.length ? `${data.failing.length} ${t("panel.webhooks.failing_total")}` : "";
    $("webhooks-body").replaceChildren(...data.localities.map((row) => {
      const tr = make("tr", { "data-locality": row.locality, class: row.failing ? "failing" : "" });
      const where = make("td");
      where.appendChild(badge(row.locality));
      if (row.stale) where.appendChild(make("span", { class: "muted small" }, ` ${t("panel.webhooks.stale")}`));
      if (!row.reported_at && !row.failing) where.appendChild(make("span", { class: "muted small" }, ` ${t("panel.webhooks.no_report")}`));
      const waiting = row.undelivered ? `${row.undelivered} · ${duration(row.oldest_undelivered_seconds)}` : "0";
      const latency = `${duration(row.latency_p50_seconds)} / ${duration(row.latency_p95_seconds)}`;
      tr.append(where, make("td", { class: "num" }, `${row.failing} / ${row.active}`),
        make("td", { class: "num waiting" }, waiting),
        make("td", { class: "num", title: `${row.delivered} ${t("panel.webhooks.delivered")}` }, latency));
      return tr;
    }));
  }

  // The applicants' evaluations per locality responsible: level shares, rectifications open and overdue.
  const LEVELS = ["very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"];
  function renderEvaluations(data) {
    const total = data.localities.reduce((n, row) => n + row.evaluations, 0);
    $("evaluations-total").textContent = `${total} ${t("panel.evaluations.total")}`;
    $("evaluations-body").replaceChildren(...data.localities.map((row) => {
      const r = row.rectifications;
      const tr = make("tr", { "data-locality": row.locality, class: r.overdue ? "failing" : "" });
      const where = make("td");
      where.appendChild(badge(row.locality));
      const shares = LEVELS.filter((level) => row.levels[level])
        .map((level) => `${t("level." + level)} ${Math.round(row.shares[level] * 100)}%`).join(" · ") || "–";
      const late = `${r.closed_late} ${t("panel.evaluations.late")}, ${r.annulled} ${t("panel.evaluations.annulled")}`;
      tr.append(where, make("td", { class: "num" }, String(row.evaluations)), make("td", { class: "shares" }, shares),
        make("td", { class: "num rectifications" }, `${r.open} / ${r.overdue}`),
        make("td", { class: "num on-time", title: late },
          row.on_time_rate === null ? "–" : `${Math.round(row.on_time_rate * 100)}%`));
      return tr;
    }));
  }

  // ------------------------------------------------------------------ start

  async function start() {
    $("login").addEventListener("submit", login);
    $("logout").addEventListener("click", logout);
    $("lang").addEventListener("click", () => {
      state.lang = state.lang === "zh" ? "en" : "zh";
      localStorage.setItem("tongban.lang", state.lang);
      applyLanguage();
    });
    $("pause").addEventListener("click", togglePause);
    $("clear").addEventListener("click", () => { state.events.clear(); state.order = []; state.gap = 0; queueRender(); });
    $("f-locality").addEventListener("change", queueRender);
    $("f-type").addEventListener("change", queueRender);
    let typing = null;
    $("f-case").addEventListener("input", () => {
      queueRender();
      clearTimeout(typing);
      const value = $("f-case").value.trim();
      if (value.length >= 8) typing = setTimeout(() => loadRecent(value), 400);
    });
    $("detail-close").addEventListener("click", () => $("detail").close());
    applyLanguage();
    const response = await fetch("/api/session", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.ok) await showDashboard(await response.json());
    else showLogin();
  }

  // What the browser tests read: the name the page shows for an event type in the current language.
  window.Dashboard = { typeLabel, language: () => state.lang };

  document.addEventListener("DOMContentLoaded", start);
})();
