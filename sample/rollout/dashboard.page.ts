import { createHash } from 'node:crypto';

/**
 * The rollout dashboard: one self-contained page (inline CSS and JS, no build step, nothing
 * fetched but this gateway's own `/rollout` routes). Its script polls `GET /rollout`,
 * `GET /rollout/figures` and `GET /rollout/events` every 2 s and draws the charts as inline SVG
 * from what it has polled since it opened. A token typed on the page is kept in sessionStorage
 * and sent as a bearer token: the read token (when one is set) or the admin token (for actions).
 */

const STYLE = `
:root { --fg:#1d2330; --muted:#667085; --line:#e4e7ec; --bg:#f7f8fa; --stable:#3565d8; --canary:#e07a1f; --bad:#c4320a; --good:#067647; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.4 system-ui, sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; flex-wrap:wrap; gap:16px; align-items:center; padding:12px 20px; background:#fff; border-bottom:1px solid var(--line); }
h1 { font-size:18px; margin:0 12px 0 0; }
h2 { font-size:14px; margin:0 0 8px; color:var(--muted); font-weight:600; text-transform:uppercase; letter-spacing:.04em; }
main { display:grid; grid-template-columns:repeat(auto-fit, minmax(380px, 1fr)); gap:16px; padding:16px 20px; }
section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
.badge { display:inline-block; padding:2px 10px; border-radius:12px; background:#eef2ff; font-weight:600; }
.badge[data-status=rolled_back], .badge[data-status=paused] { background:#fee4e2; color:var(--bad); }
.badge[data-status=promoted], .badge[data-status=progressing] { background:#dcfae6; color:var(--good); }
.kv { display:flex; gap:6px; align-items:baseline; }
.kv span:first-child { color:var(--muted); }
table { width:100%; border-collapse:collapse; font-variant-numeric:tabular-nums; }
th, td { text-align:right; padding:3px 6px; border-bottom:1px solid var(--line); }
th:first-child, td:first-child { text-align:left; color:var(--muted); font-weight:normal; }
thead th { color:var(--fg); font-weight:600; }
.stable { color:var(--stable); } .canary { color:var(--canary); }
ol { margin:0; padding-left:18px; max-height:260px; overflow:auto; }
li { margin-bottom:4px; } li time { color:var(--muted); font-size:12px; margin-right:6px; }
#controls { display:flex; flex-wrap:wrap; gap:6px; align-items:center; margin-left:auto; }
button { font:inherit; padding:4px 10px; border:1px solid var(--line); border-radius:6px; background:#fff; cursor:pointer; }
button:hover { background:#f2f4f7; }
input { font:inherit; padding:4px 8px; border:1px solid var(--line); border-radius:6px; width:200px; }
#message { color:var(--muted); min-height:1.4em; padding:0 20px; margin-top:8px; }
#message[data-kind=error] { color:var(--bad); }
#auth { margin:16px 20px; padding:12px 14px; background:#fffaeb; border:1px solid #fedf89; border-radius:8px; }
svg { width:100%; height:auto; display:block; }
.legend { font-size:12px; color:var(--muted); }
[hidden] { display:none !important; }
`;

const SCRIPT = `
'use strict';
const $ = (id) => document.getElementById(id);
const STORE = 'rolloutToken';
const samples = [];
let timer;

function token() { return sessionStorage.getItem(STORE) || ''; }
function headers() { const t = token(); return t ? { authorization: 'Bearer ' + t } : {}; }
function setText(id, value) { $(id).textContent = value; }
function pct(rate) { return (100 * rate).toFixed(2) + '%'; }
function ms(value) { return Math.round(value) + ' ms'; }
function usd(value) { return '$' + value.toFixed(value < 1 ? 4 : 2); }
function time(at) { return new Date(at).toLocaleTimeString(); }
function say(text, kind) { const m = $('message'); m.textContent = text; m.dataset.kind = kind || ''; }

async function getJson(path) {
  const response = await fetch(path, { headers: headers(), cache: 'no-store' });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw Object.assign(new Error((body.error && body.error.message) || response.statusText), { status: response.status });
  return body;
}

const ROWS = [
  ['calls', (s) => String(s.calls)],
  ['errors', (s) => String(s.errors)],
  ['error rate', (s) => pct(s.errorRate)],
  ['success rate', (s) => pct(s.successRate)],
  ['p50', (s) => ms(s.p50Ms)],
  ['p95', (s) => ms(s.p95Ms)],
  ['p99', (s) => ms(s.p99Ms)],
  ['first chunk p50', (s) => ms(s.firstChunk.p50Ms)],
  ['first chunk p95', (s) => ms(s.firstChunk.p95Ms)],
  ['cost / 1,000 calls', (s) => usd(s.costPer1000Requests)],
];

function fillTable(id, sides) {
  const body = $(id);
  body.replaceChildren(...ROWS.map(([label, format]) => {
    const tr = document.createElement('tr');
    tr.dataset.row = label;
    for (const [cls, text] of [['', label], ['stable', format(sides.stable)], ['canary', format(sides.canary)]]) {
      const td = document.createElement('td');
      if (cls) td.className = cls;
      td.textContent = text;
      tr.append(td);
    }
    return tr;
  }));
}

const SVG = 'http://www.w3.org/2000/svg';
function svgEl(name, attrs, text) {
  const el = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  if (text !== undefined) el.textContent = text;
  return el;
}

function drawSplit(figures, weight) {
  const svg = $('split-chart');
  const total = figures.stable.calls + figures.canary.calls;
  const canaryShare = total ? figures.canary.calls / total : 0;
  const width = 400;
  const nodes = [
    svgEl('rect', { x: 0, y: 10, width: width, height: 28, fill: '#3565d8' }),
    svgEl('rect', { x: width * (1 - canaryShare), y: 10, width: width * canaryShare, height: 28, fill: '#e07a1f' }),
    svgEl('line', { x1: width * (1 - weight / 100), x2: width * (1 - weight / 100), y1: 4, y2: 44, stroke: '#1d2330', 'stroke-width': 2, 'stroke-dasharray': '3 2' }),
    svgEl('text', { x: 4, y: 60, 'font-size': 12, fill: '#3565d8' }, 'stable ' + figures.stable.calls + ' (' + (100 - 100 * canaryShare).toFixed(1) + '%)'),
    svgEl('text', { x: width - 4, y: 60, 'font-size': 12, fill: '#e07a1f', 'text-anchor': 'end' }, 'canary ' + figures.canary.calls + ' (' + (100 * canaryShare).toFixed(1) + '%)'),
  ];
  // The canary's share of calls over time, against its weight.
  const points = samples.slice(-60);
  if (points.length > 1) {
    const x = (i) => (i / (points.length - 1)) * width;
    const y = (share) => 150 - share * 70;
    nodes.push(svgEl('rect', { x: 0, y: 80, width: width, height: 70, fill: '#f7f8fa' }));
    nodes.push(svgEl('polyline', { points: points.map((p, i) => x(i) + ',' + y(p.weight / 100)).join(' '), fill: 'none', stroke: '#1d2330', 'stroke-dasharray': '3 2' }));
    nodes.push(svgEl('polyline', { points: points.map((p, i) => x(i) + ',' + y(p.canaryShare)).join(' '), fill: 'none', stroke: '#e07a1f', 'stroke-width': 2 }));
  }
  svg.replaceChildren(...nodes);
}

function drawLatency() {
  const svg = $('latency-chart');
  const points = samples.slice(-60);
  const width = 400, height = 160, top = 10;
  const max = Math.max(1, ...points.flatMap((p) => [p.stable.p99Ms, p.canary.p99Ms]));
  const x = (i) => (points.length > 1 ? (i / (points.length - 1)) * width : 0);
  const y = (v) => top + height - (v / max) * height;
  const nodes = [
    svgEl('line', { x1: 0, x2: width, y1: top + height, y2: top + height, stroke: '#e4e7ec' }),
    svgEl('text', { x: 2, y: top + 10, 'font-size': 11, fill: '#667085' }, ms(max)),
  ];
  const series = [['stable', 'p99Ms', '#3565d8', ''], ['stable', 'p50Ms', '#3565d8', '4 3'], ['canary', 'p99Ms', '#e07a1f', ''], ['canary', 'p50Ms', '#e07a1f', '4 3']];
  for (const [side, key, color, dash] of series) {
    if (points.length === 0) break;
    nodes.push(svgEl('polyline', { 'data-series': side + '-' + key, points: points.map((p, i) => x(i) + ',' + y(p[side][key])).join(' '), fill: 'none', stroke: color, 'stroke-width': 2, 'stroke-dasharray': dash }));
  }
  svg.replaceChildren(...nodes);
}

function render(report, figures, events) {
  $('auth').hidden = true;
  $('dashboard').hidden = false;
  const status = $('status');
  status.textContent = report.status;
  status.dataset.status = report.status;
  setText('phase', report.phase === null ? '– / ' + report.phases : report.phase + ' / ' + report.phases);
  setText('weight', report.weightPercent + '%');
  setText('providers', report.stable + ' → ' + report.canary);
  setText('reason', report.reason);
  setText('changed', time(report.changedAt));
  setText('stale', report.stale ? 'stale: every call goes to stable' : '');
  fillTable('live-figures', figures);
  fillTable('judged-figures', report.sides);
  setText('evaluation', report.evaluation ? 'phase ' + report.evaluation.phase + ', ' + report.evaluation.scope + ', ' + report.evaluation.replicas + ' replica(s), ' + time(report.evaluation.at) : 'no evaluation yet');
  const verdict = report.lastVerdict;
  setText('verdict', verdict ? verdict.kind : 'none yet');
  setText('verdict-reason', verdict ? verdict.reasons.join('; ') + ' (' + time(verdict.at) + ')' : '');
  $('events').replaceChildren(...(events.length ? events.map((event) => {
    const li = document.createElement('li');
    const at = document.createElement('time');
    at.textContent = time(event.at);
    li.append(at, event.type + ': ' + event.from + ' → ' + event.to + ' — ' + event.reason);
    return li;
  }) : [Object.assign(document.createElement('li'), { textContent: 'no transition since this replica started' })]));
  const total = figures.stable.calls + figures.canary.calls;
  samples.push({ at: Date.now(), weight: report.weightPercent, canaryShare: total ? figures.canary.calls / total : 0, stable: figures.stable, canary: figures.canary });
  if (samples.length > 300) samples.shift();
  drawSplit(figures, report.weightPercent);
  drawLatency();
  setText('updated', 'updated ' + time(Date.now()));
}

async function poll() {
  clearTimeout(timer);
  try {
    const [report, figures, events] = await Promise.all([getJson('/rollout'), getJson('/rollout/figures'), getJson('/rollout/events')]);
    render(report, figures, events.events);
  } catch (error) {
    if (error.status === 401 || error.status === 403) {
      $('auth').hidden = false;
      $('dashboard').hidden = true;
      setText('auth-reason', error.message);
    } else {
      say('Could not read the rollout: ' + error.message, 'error');
    }
  }
  timer = setTimeout(poll, 2000);
}

async function act(action) {
  if (!token()) { say('Enter the admin token to ' + action + ' the rollout.', 'error'); $('token').focus(); return; }
  if (!confirm('Really ' + action + ' the rollout?')) return;
  const response = await fetch('/rollout/' + action, { method: 'POST', headers: { ...headers(), 'content-type': 'application/json' }, body: JSON.stringify({ reason: action + ' from the dashboard' }) });
  const body = await response.json().catch(() => ({}));
  if (response.ok) say(action + ': the rollout is ' + body.status, 'ok');
  else say(action + ' refused (' + response.status + '): ' + ((body.error && body.error.message) || response.statusText), 'error');
  poll();
}

function saveToken(event) {
  event.preventDefault();
  const field = event.target.querySelector('input');
  if (field.value) sessionStorage.setItem(STORE, field.value); else sessionStorage.removeItem(STORE);
  field.value = '';
  say(token() ? 'Token kept for this tab.' : 'Token forgotten.', 'ok');
  poll();
}

for (const button of document.querySelectorAll('button[data-action]')) button.addEventListener('click', () => act(button.dataset.action));
for (const form of document.querySelectorAll('form.token')) form.addEventListener('submit', saveToken);
poll();
`;

/** The page's Content-Security-Policy: its own inline script and style, and this origin only. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src 'sha256-${createHash('sha256').update(SCRIPT).digest('base64')}'`,
  "style-src 'unsafe-inline'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const table = (id: string, caption: string) => `
    <table>
      <caption hidden>${caption}</caption>
      <thead><tr><th></th><th class="stable">stable</th><th class="canary">canary</th></tr></thead>
      <tbody id="${id}"></tbody>
    </table>`;

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Rollout</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>Canary rollout</h1>
  <span class="badge" id="status">loading…</span>
  <span class="kv"><span>phase</span><strong id="phase">–</strong></span>
  <span class="kv"><span>weight</span><strong id="weight">–</strong></span>
  <span class="kv"><span>providers</span><strong id="providers">–</strong></span>
  <span class="kv"><span>since</span><span id="changed">–</span></span>
  <div id="controls">
    <form class="token"><input id="token" type="password" autocomplete="off" placeholder="admin token"></form>
    <button data-action="pause">Pause</button>
    <button data-action="resume">Resume</button>
    <button data-action="advance">Advance</button>
    <button data-action="rollback">Roll back</button>
    <button data-action="promote">Promote</button>
  </div>
</header>
<div id="message" role="status"></div>
<div id="auth" hidden>
  <p><strong>This rollout needs a token to be read.</strong> <span id="auth-reason"></span></p>
  <form class="token"><input id="read-token" type="password" autocomplete="off" placeholder="read or admin token"> <button type="submit">Use token</button></form>
</div>
<main id="dashboard" hidden>
  <section>
    <h2>State</h2>
    <p id="reason"></p>
    <p class="kv"><span>last verdict</span><strong id="verdict">–</strong></p>
    <p id="verdict-reason" class="legend"></p>
    <p class="legend" id="stale"></p>
  </section>
  <section>
    <h2>Current phase so far</h2>${table('live-figures', 'figures of the current phase')}
  </section>
  <section>
    <h2>Split of calls</h2>
    <svg id="split-chart" viewBox="0 0 400 160" role="img" aria-label="calls per side and the canary's share over time"></svg>
    <p class="legend">bar: calls this phase (dashed: the canary's weight); line: the canary's share of calls over time</p>
  </section>
  <section>
    <h2>Latency over time</h2>
    <svg id="latency-chart" viewBox="0 0 400 180" role="img" aria-label="p50 and p99 per side over time"></svg>
    <p class="legend"><span class="stable">stable</span> / <span class="canary">canary</span>: p99 solid, p50 dashed (time to answer, or to first chunk for streams)</p>
  </section>
  <section>
    <h2>Judged at the last evaluation</h2>
    <p class="legend" id="evaluation"></p>${table('judged-figures', 'figures of the last evaluation')}
  </section>
  <section>
    <h2>Recent events</h2>
    <ol id="events"></ol>
  </section>
</main>
<p class="legend" id="updated" style="padding:0 20px"></p>
<script>${SCRIPT}</script>
</body>
</html>
`;
