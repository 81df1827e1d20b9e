// Pivot's web page: machines with their latest boot, updated live from the /api/v1/events stream.
// Plain DOM, no framework; every text from the server goes through textContent (never innerHTML).
"use strict";

const machines = new Map(); // mac → {info, session: {id, state, events: []}, earlier: [sessions], el}
const root = document.getElementById("machines");
const liveBadge = document.getElementById("live");
window.pivotLive = false;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

function humanBytes(n) {
  if (!n) return "";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) { n /= 1024; u++; }
  return (u === 0 ? n : n.toFixed(1)) + " " + units[u];
}

function machine(mac) {
  let m = machines.get(mac);
  if (!m) {
    m = { info: { mac: mac, labels: {} }, session: null, earlier: [], el: el("article", "machine") };
    m.el.dataset.mac = mac;
    machines.set(mac, m);
    root.prepend(m.el);
    document.getElementById("empty").hidden = true;
  }
  return m;
}

function render(m, freshIndex) {
  const s = m.session;
  const state = s ? s.state : "booting";
  m.el.className = "machine " + state;
  m.el.dataset.state = state;
  m.el.replaceChildren();

  const head = el("div", "head");
  head.append(el("span", "mac", m.info.mac), el("span", "badge " + state, state.replace("_", " ")));
  if (s) head.append(el("span", "meta", "boot #" + s.id));
  if (s && s.server) head.append(el("span", "server", "via " + s.server)); // servers sharing a store
  const ip = s ? addressOf(s) : null;
  if (ip) head.append(el("span", "ip", ip));
  if (m.info.firmware) head.append(el("span", "meta", m.info.firmware));
  if (m.info.profile) head.append(el("span", "meta", "boots " + m.info.profile.name + " (" + m.info.profile.because + ")"));
  const g = m.info.generation;
  if (g) {
    if (g.rebootNeeded) head.append(el("span", "reboot", "reboot needed: runs generation " + g.running + ", next boot gets " + g.next));
    else head.append(el("span", "meta", g.running ? "generation " + g.running : "next boot: generation " + g.next));
  }
  for (const [k, v] of Object.entries(m.info.labels || {})) head.append(el("span", "label", k + "=" + v));
  if (s && s.events.length) head.append(el("span", "meta", "last event " + new Date(s.events[s.events.length - 1].at).toLocaleTimeString()));
  m.el.append(head);
  if (!s) return;

  const failure = s.events.find(e => e.failed);
  if (failure) m.el.append(el("div", "reason", failure.step + " failed: " + (failure.detail || "no reason given")));
  m.el.append(timeBar(s));

  const ol = el("ol", "timeline");
  s.events.forEach((e, i) => {
    const li = el("li", e.failed ? "failed" : e.step === "stalled" ? "stalled" : "");
    if (i === freshIndex) li.classList.add("fresh");
    li.dataset.step = e.step;
    li.append(el("div", "step", e.step), el("div", "since", "+" + e.sinceStart.toFixed(1) + " s"));
    const detail = [e.detail, humanBytes(e.bytes)].filter(Boolean).join(" · ");
    if (detail) { const d = el("div", "detail", detail); d.title = detail; li.append(d); }
    ol.append(li);
  });
  m.el.append(ol);
  if (m.earlier.length) m.el.append(earlierBoots(m));
}

// The address the machine had in this boot: the last event that names one (DHCP's offer, stage 1's reports).
function addressOf(s) {
  for (let i = s.events.length - 1; i >= 0; i--) if (s.events[i].address) return s.events[i].address;
  return null;
}

// One boot as a bar whose segments are as long as the time between its events: a 16 s wait looks like 16 s.
function timeBar(s) {
  const bar = el("div", "bar");
  const ev = s.events;
  const total = ev.length ? ev[ev.length - 1].sinceStart : 0;
  bar.dataset.seconds = total.toFixed(1);
  ev.forEach((e, i) => {
    const end = i + 1 < ev.length ? ev[i + 1].sinceStart : e.sinceStart;
    // A segment is the wait that ended in the next event: red when that one failed, amber when the boot stalled.
    const next = ev[i + 1] || e;
    const seg = el("span", "seg" + (next.failed ? " failed" : next.step === "stalled" ? " stalled" : ""));
    seg.dataset.step = e.step;
    seg.style.left = (total > 0 ? e.sinceStart / total * 100 : 0) + "%";
    seg.style.width = (total > 0 ? (end - e.sinceStart) / total * 100 : 0) + "%";
    seg.title = e.step + " at +" + e.sinceStart.toFixed(1) + " s" + (end > e.sinceStart ? ", next step " + (end - e.sinceStart).toFixed(1) + " s later" : "");
    bar.append(seg);
  });
  bar.append(el("span", "total", total.toFixed(1) + " s"));
  return bar;
}

// The machine's earlier boots, one click away: built when opened, so a closed card stays small.
function earlierBoots(m) {
  const d = el("details", "earlier");
  const n = m.earlier.length;
  d.append(el("summary", null, n + " earlier boot" + (n === 1 ? "" : "s")));
  const fill = () => {
    if (d.querySelector(".boot")) return;
    for (const s of m.earlier) {
      const b = el("div", "boot " + s.state);
      b.dataset.session = s.id;
      const started = s.events.length ? new Date(s.events[0].at).toLocaleString() : "";
      b.append(el("div", "meta", "boot #" + s.id + " · " + s.state.replace("_", " ") + " · " + started + (s.server ? " · via " + s.server : "")));
      const failure = s.events.find(e => e.failed);
      if (failure) b.append(el("div", "reason", failure.step + " failed: " + (failure.detail || "no reason given")));
      b.append(timeBar(s));
      d.append(b);
    }
  };
  d.addEventListener("toggle", () => { if (d.open) fill(); });
  if (m.earlierOpen) { d.open = true; fill(); }
  d.addEventListener("toggle", () => { m.earlierOpen = d.open; });
  return d;
}

// With `pivot serve --protect-reads`, open the page as /?token=TOKEN: the API calls carry it on.
const TOKEN = new URLSearchParams(location.search).get("token");
function withToken(path) {
  return TOKEN ? path + (path.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(TOKEN) : path;
}

async function getJson(path) {
  const r = await fetch(withToken(path), { cache: "no-store" });
  if (!r.ok) throw new Error(path + ": HTTP " + r.status);
  return r.json();
}

async function load() {
  const [infos, sessions] = await Promise.all([getJson("/api/v1/machines"), getJson("/api/v1/sessions?limit=500")]);
  // Oldest first, so that prepend leaves the most recently seen machine on top.
  for (const info of infos.slice().reverse()) machine(info.mac).info = info;
  for (const s of sessions) {
    const m = machine(s.mac);
    if (!m.session || m.session.id <= s.id) {
      if (m.session && m.session.id < s.id) keepEarlier(m, m.session);
      m.session = s;
    } else {
      keepEarlier(m, s);
    }
  }
  machines.forEach(m => render(m, -1));
  const empty = document.getElementById("empty");
  empty.textContent = "No machine has booted yet. Machines appear here as soon as they ask DHCP.";
  empty.hidden = machines.size > 0;
}

// Newest first, each boot once, a few per machine (the API keeps the most recent sessions of each).
function keepEarlier(m, s) {
  if (m.earlier.some(x => x.id === s.id)) return;
  m.earlier.push(s);
  m.earlier.sort((a, b) => b.id - a.id);
  if (m.earlier.length > 10) m.earlier.length = 10;
}

// Events that arrive while the history loads wait, then apply unless the history already had them.
let pending = [];

function onEvent(ev) {
  const e = JSON.parse(ev.data);
  if (pending) pending.push(e); else apply(e);
}

function apply(e) {
  const m = machine(e.mac);
  if (m.session && m.session.id === e.session && m.session.events.some(x => x.at === e.at && x.step === e.step)) return;
  if (!m.session || m.session.id !== e.session) {
    if (m.session && m.session.id < e.session) keepEarlier(m, m.session);
    m.session = { id: e.session, mac: e.mac, state: e.state, events: [], server: e.server };
    if (!m.info.firmware) getJson("/api/v1/machines/" + encodeURIComponent(e.mac)).then(i => { m.info = i; render(m, -1); }).catch(() => {});
  }
  m.session.state = e.state;
  m.session.events.push(e);
  // what it runs (its generation) changes when a boot reaches stage 2
  if (e.step === "stage2" && !e.failed) getJson("/api/v1/machines/" + encodeURIComponent(e.mac)).then(i => { m.info = i; render(m, -1); }).catch(() => {});
  root.prepend(m.el); // the machine that just did something goes on top
  render(m, m.session.events.length - 1);
}

function connect() {
  const source = new EventSource(withToken("/api/v1/events"));
  source.addEventListener("boot", onEvent);
  source.onopen = () => {
    liveBadge.textContent = "live"; liveBadge.className = "live on"; window.pivotLive = true;
  };
  source.onerror = () => {
    liveBadge.textContent = "reconnecting…"; liveBadge.className = "live off"; window.pivotLive = false;
    // EventSource reconnects by itself; reload the history so nothing missed meanwhile is lost.
    source.onopen = () => { liveBadge.textContent = "live"; liveBadge.className = "live on"; window.pivotLive = true; load().catch(() => {}); };
  };
}

// Subscribe first, then read the history: an event in between is neither lost nor shown twice.
connect();
load().catch(err => { document.getElementById("empty").textContent = "Cannot load machines: " + err.message; })
  .finally(() => { const waiting = pending; pending = null; waiting.forEach(apply); window.pivotLoaded = true; });
