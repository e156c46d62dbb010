// The dashboard page: draws the service graph from /api/graph (pushed by /api/events after every scrape,
// polled when EventSource is missing or drops), redraws it in place as the numbers move (no reload),
// and opens a workload's details (/api/workload) on a click. Plain JavaScript, no libraries: the machine
// may be offline. Data only ever reaches the page through textContent and attributes, never as HTML.
/* global document, window, fetch, EventSource */
'use strict';

const SVGNS = 'http://www.w3.org/2000/svg';
const NODE_W = 190;
const NODE_H = 46;
const COL = 430;
const ROW = 92;
let selected = null;
let updates = 0;

function el(tag, attrs, text, ns) {
  const e = ns ? document.createElementNS(SVGNS, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}
const svg = (tag, attrs, text) => el(tag, attrs, text, true);
const pct = (v) => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(v > 0 && v < 0.1 ? 1 : 0)}%`);
const num = (v, d) => (v === null || v === undefined ? '–' : v.toFixed(d));

/** Columns by longest path from the callers; within a column by app, then version. */
function layout(nodes, edges) {
  const depth = new Map(nodes.map((n) => [n.id, 0]));
  for (let i = 0; i < nodes.length; i++) {
    let changed = false;
    for (const e of edges) {
      if (e.source === e.target) continue;
      const d = (depth.get(e.source) || 0) + 1;
      if (d > (depth.get(e.target) || 0) && d < nodes.length) {
        depth.set(e.target, d);
        changed = true;
      }
    }
    if (!changed) break;
  }
  // a workload without edges (a version with no traffic yet) goes to its app's column
  const linked = new Set(edges.flatMap((e) => [e.source, e.target]));
  for (const n of nodes) {
    if (linked.has(n.id)) continue;
    const sibling = nodes.find((m) => m !== n && linked.has(m.id) && m.app && m.app === n.app && m.namespace === n.namespace);
    if (sibling) depth.set(n.id, depth.get(sibling.id) || 0);
  }
  const cols = new Map();
  for (const n of nodes) {
    const d = depth.get(n.id) || 0;
    if (!cols.has(d)) cols.set(d, []);
    cols.get(d).push(n);
  }
  const pos = new Map();
  let height = 0;
  for (const [d, list] of cols) {
    list.sort((a, b) => (a.namespace + a.app).localeCompare(b.namespace + b.app) || a.version.localeCompare(b.version) || a.workload.localeCompare(b.workload));
    list.forEach((n, i) => pos.set(n.id, { x: 30 + d * COL, y: 30 + i * ROW }));
    height = Math.max(height, 30 + list.length * ROW);
  }
  return { pos, width: 30 + cols.size * COL, height };
}

/** A padlock (drawn, not an emoji: the machine may have no emoji font); open when some requests were plaintext. */
function lock(x, y, state) {
  const g = svg('g', { class: `lock ${state}`, transform: `translate(${x},${y})` });
  g.append(svg('title', {}, state === 'mutual_tls' ? 'mTLS: every request mutual TLS' : 'mTLS: some requests plaintext'));
  g.append(svg('path', { d: state === 'mutual_tls' ? 'M 2 5 V 3 a 3 3 0 0 1 6 0 V 5' : 'M 2 5 V 3 a 3 3 0 0 1 6 0', fill: 'none' }));
  g.append(svg('rect', { x: 0, y: 5, width: 10, height: 7, rx: 1.5 }));
  return g;
}

function edgeClass(e) {
  if (!e.rps) return 'idle';
  if (e.successRate === null) return 'ok';
  return e.successRate >= 0.99 ? 'ok' : e.successRate >= 0.95 ? 'warn' : 'bad';
}

function drawGraph(g) {
  const edgesG = document.getElementById('edges');
  const nodesG = document.getElementById('nodes');
  const { pos, width, height } = layout(g.nodes, g.edges);
  const root = document.getElementById('graph');
  root.setAttribute('viewBox', `0 0 ${Math.max(width, 600)} ${Math.max(height, 300)}`);
  edgesG.replaceChildren();
  nodesG.replaceChildren();
  for (const e of g.edges) {
    const a = pos.get(e.source);
    const b = pos.get(e.target);
    if (!a || !b) continue;
    const x1 = a.x + NODE_W, y1 = a.y + NODE_H / 2, x2 = b.x, y2 = b.y + NODE_H / 2;
    const mx = (x1 + x2) / 2;
    const group = svg('g', {
      class: `edge ${edgeClass(e)}`, 'data-id': e.id, 'data-source': e.source, 'data-target': e.target,
      'data-rps': e.rps === null ? '' : e.rps, 'data-share': e.share === null ? '' : e.share,
      'data-success': e.successRate === null ? '' : e.successRate, 'data-mtls': e.mtls,
    });
    const w = e.rps ? Math.min(8, 1.5 + Math.log2(1 + e.rps)) : 1.5;
    const d = x2 > x1 ? `M ${x1} ${y1} C ${mx} ${y1}, ${mx} ${y2}, ${x2} ${y2}` : `M ${x1} ${y1} C ${x1 + 80} ${y1 - 80}, ${x2 - 80} ${y2 - 80}, ${x2} ${y2}`;
    group.append(svg('path', { d, 'stroke-width': w, 'marker-end': 'url(#arrow)' }));
    // the label sits on the curve two thirds of the way, so labels of a fan-out do not pile up at its root
    const bez = (p0, p1, p2, p3, u) => (1 - u) ** 3 * p0 + 3 * (1 - u) ** 2 * u * p1 + 3 * (1 - u) * u ** 2 * p2 + u ** 3 * p3;
    const lx = x2 > x1 ? bez(x1, mx, mx, x2, 0.68) : (x1 + x2) / 2, ly = x2 > x1 ? bez(y1, y1, y2, y2, 0.68) : (y1 + y2) / 2 - 60;
    const share = e.share !== null && e.share < 0.9995 ? `${pct(e.share)} · ` : '';
    const l1 = `${share}${num(e.rps, 1)} ${e.protocol === 'tcp' ? 'conn/s' : 'rps'}${e.mtls === 'mixed' ? ' · some plaintext' : ''}`;
    group.append(svg('text', { x: lx, y: ly - 4, 'text-anchor': 'middle', class: 'l1' }, l1));
    if (e.mtls === 'mutual_tls' || e.mtls === 'mixed') group.append(lock(lx + l1.length * 3.2 + 6, ly - 14, e.mtls));
    if (e.protocol === 'http') group.append(svg('text', { x: lx, y: ly + 10, 'text-anchor': 'middle', class: 'l2' }, `✓ ${pct(e.successRate)} · p99 ${e.p99Ms === null ? '–' : `${num(e.p99Ms, e.p99Ms < 10 ? 1 : 0)} ms`}`));
    const title = svg('title', {}, `${e.source} → ${e.target}\n${e.services.join(', ')}\n${e.total} requests since start; codes in window ${JSON.stringify(e.codes)}\nmTLS: ${e.mtls}`);
    group.append(title);
    edgesG.append(group);
  }
  for (const n of g.nodes) {
    const p = pos.get(n.id);
    const group = svg('g', { class: `node${n.id === 'unknown' ? ' unknown' : ''}${selected === n.id ? ' selected' : ''}`, 'data-id': n.id, transform: `translate(${p.x},${p.y})`, tabindex: 0 });
    group.append(svg('rect', { width: NODE_W, height: NODE_H }));
    group.append(svg('text', { x: 10, y: 19, class: 'name' }, n.workload));
    group.append(svg('text', { x: 10, y: 36, class: 'version' }, `${n.namespace || 'outside the mesh'}${n.version ? ` · ${n.version}` : ''}${n.pods > 1 ? ` · ${n.pods} pods` : ''}`));
    if (n.id !== 'unknown') group.addEventListener('click', () => openDetails(n));
    nodesG.append(group);
  }
}

function drawSplits(g) {
  const box = document.getElementById('splits');
  box.replaceChildren();
  const colors = ['#4a6b8a', '#e08a00', '#2e9a4d', '#8a4a8a', '#d0342c'];
  for (const s of g.services) {
    if (s.versions.length < 2) continue;
    const div = el('div', { class: 'split', 'data-service': s.service });
    div.append(el('b', {}, s.service.split('.').slice(0, 2).join('.')));
    div.append(el('span', { class: 'text' }, `${s.versions.map((v) => `${v.version || v.workload} ${pct(v.share)}`).join(' · ')} · success ${pct(s.successRate)} · ${num(s.rps, 1)} rps`));
    const bar = el('div', { class: 'bar' });
    s.versions.forEach((v, i) => bar.append(el('span', { style: `width:${((v.share || 0) * 100).toFixed(1)}%;background:${colors[i % colors.length]}`, title: `${v.workload} ${pct(v.share)}` })));
    div.append(bar);
    box.append(div);
  }
}

function render(g) {
  updates++;
  document.body.dataset.updates = String(updates);
  const errs = (g.targets || []).filter((t) => t.error).length;
  document.getElementById('status').textContent =
    `${(g.targets || []).length} sidecars · ${g.edges.length} edges · rates over ${g.windowSec === null ? '–' : `${g.windowSec} s`} · updated ${new Date(g.at || Date.now()).toLocaleTimeString()}${errs ? ` · ${errs} scrape errors` : ''}${g.error ? ` · ${g.error}` : ''}`;
  drawSplits(g);
  drawGraph(g);
}

function section(title, items) {
  const frag = document.createDocumentFragment();
  frag.append(el('h3', {}, title));
  if (!items.length) frag.append(el('p', {}, 'none'));
  else {
    const ul = el('ul');
    for (const i of items) ul.append(i);
    frag.append(ul);
  }
  return frag;
}

async function openDetails(n) {
  selected = n.id;
  document.querySelectorAll('.node').forEach((x) => x.classList.toggle('selected', x.getAttribute('data-id') === n.id));
  const aside = document.getElementById('details');
  const body = document.getElementById('details-body');
  aside.hidden = false;
  body.replaceChildren(el('p', {}, 'loading…'));
  let d;
  try {
    const r = await fetch(`/api/workload?namespace=${encodeURIComponent(n.namespace)}&workload=${encodeURIComponent(n.workload)}`);
    d = await r.json();
    if (!r.ok) throw new Error(d.error || r.status);
  } catch (e) {
    body.replaceChildren(el('p', {}, `could not load: ${e.message}`));
    return;
  }
  body.replaceChildren();
  body.append(el('h2', {}, `${d.workload}`));
  body.append(el('p', {}, `namespace ${d.namespace} · app ${d.app || '–'} · version ${d.version || '–'} · services ${d.services.join(', ') || 'none'}`));
  body.append(section('Pods', d.pods.map((p) => el('li', {}, `${p.name} ${p.ip}${p.scrapeError ? ` (scrape: ${p.scrapeError})` : ''}`))));
  body.append(section('Routes', d.routes.map((r) => {
    const li = el('li', { 'data-kind': r.kind }, `${r.kind} ${r.namespace}/${r.name}`);
    const ul = el('ul');
    for (const s of r.summary) ul.append(el('li', {}, s));
    li.append(ul);
    return li;
  })));
  body.append(section('Policies', d.policies.map((p) => el('li', { 'data-kind': p.kind }, `${p.kind} ${p.namespace}/${p.name}: ${p.summary}`))));
  const c = d.certificate;
  body.append(section('Certificate', !c ? [] : c.error ? [el('li', {}, `not available: ${c.error}`)] : [
    el('li', { class: 'identity' }, c.identity), el('li', {}, `serial ${c.serial}`), el('li', {}, `valid ${c.validFrom} → ${c.expires} (${c.daysLeft} days left)`),
  ]));
}

document.getElementById('close').addEventListener('click', () => {
  document.getElementById('details').hidden = true;
  selected = null;
  document.querySelectorAll('.node.selected').forEach((x) => x.classList.remove('selected'));
});

let pollTimer = null;
function poll() {
  if (pollTimer) return;
  const once = () => fetch('/api/graph').then((r) => r.json()).then(render).catch(() => {
    document.getElementById('status').textContent = 'dashboard unreachable; retrying…';
  });
  once();
  pollTimer = window.setInterval(once, 2000);
}

if (typeof EventSource === 'function') {
  const es = new EventSource('/api/events');
  es.addEventListener('graph', (ev) => render(JSON.parse(ev.data)));
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) poll();
  };
} else {
  poll();
}
