// vitscope explorer: plain JS and canvas over the JSON API (docs/api.md). Nothing is fetched from elsewhere.
'use strict';

const $ = (id) => document.getElementById(id);
const state = {
  health: null, blob: null, name: null, scale: 1, block: 0, mode: 'mean', head: 0, opacity: 0.6,
  view: null, maps: null, tokens: null, patch: null, chart: null, predictions: null,
};
const INFERNO = [[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]];
const LINE_COLOURS = ['#3b5bdb', '#e8590c', '#2b8a3e', '#c2255c', '#7048e8', '#0c8599', '#5c940d', '#862e9c'];
const pending = {};

// ---------------------------------------------------------------- requests

async function api(path, params, kind) {
  // Each kind of request keeps only its newest answer: a slow old one never overwrites a newer one.
  const ticket = (pending[kind] = (pending[kind] || 0) + 1);
  const form = new FormData();
  form.append('image', state.blob, state.name);
  const res = await fetch(path + '?' + new URLSearchParams(params), {method: 'POST', body: form});
  if (ticket !== pending[kind]) throw new Stale();
  if (!res.ok) throw new Error(await errorText(res));
  return res;
}

class Stale extends Error {}

async function errorText(res) {
  try { return (await res.json()).error || res.statusText; } catch (e) { return res.status + ' ' + res.statusText; }
}

function showError(e) {
  if (e instanceof Stale) return;
  const box = $('error');
  box.textContent = e.message || String(e);
  box.hidden = false;
  status('');
}

function clearError() { $('error').hidden = true; $('error').textContent = ''; }

function status(text) { $('status').textContent = text; }

function parseNpy(buf) {
  const u8 = new Uint8Array(buf);
  const major = u8[6];
  const hlen = major === 1 ? (u8[8] | (u8[9] << 8)) : new DataView(buf).getUint32(8, true);
  const off = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(u8.subarray(off, off + hlen));
  const shape = header.match(/'shape':\s*\(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
  return {shape, data: new Float32Array(buf.slice(off + hlen))};
}

// ---------------------------------------------------------------- loading

async function init() {
  const h = await (await fetch('/api/health')).json();
  state.health = h;
  $('model').textContent = h.model + ' · ' + h.blocks + ' blocks × ' + h.heads + ' heads · '
      + h.grid[0] + '×' + h.grid[1] + ' patches';
  for (let b = 0; b < h.blocks; b++) $('block').add(new Option('blocks.' + b, b));
  state.block = h.defaultBlock;
  $('block').value = String(h.defaultBlock);
  for (const m of h.modes) {
    const o = new Option(m.name, m.name);
    o.title = m.description;
    $('mode').add(o);
  }
  const list = (await (await fetch('/api/images')).json()).images;
  for (const name of list) $('image-select').add(new Option(name, name));
  if (list.length === 0) $('image-select').add(new Option('(no demo images: drop one)', ''));
  wire();
  if (list.length > 0) await pickDemo(list[0]);
}

async function pickDemo(name) {
  if (!name) return;
  const res = await fetch('/images/' + name.split('/').map(encodeURIComponent).join('/'));
  if (!res.ok) return showError(new Error(await errorText(res)));
  await useImage(await res.blob(), name.split('/').pop());
}

/** Tries the image with a prediction first, so an unusable file leaves the current one in place. */
async function useImage(blob, name) {
  const before = {blob: state.blob, name: state.name};
  state.blob = blob;
  state.name = name;
  status('running…');
  try {
    await refreshPredict();
  } catch (e) {
    state.blob = before.blob;
    state.name = before.name;
    return showError(e);
  }
  $('image-name').textContent = name;
  clearError();
  await Promise.all([refreshView(), refreshMaps(), refreshTokens(), refreshChart()]).catch(showError);
  status('');
}

async function refreshView() {
  const res = await api('/api/view', {}, 'view');
  const bitmap = await createImageBitmap(await res.blob());
  state.view = bitmap;
  drawAll();
}

async function refreshPredict() {
  const res = await api('/api/predict', {top: 5, scale: state.scale}, 'predict');
  state.predictions = (await res.json()).predictions;
  drawTop5();
}

async function refreshMaps() {
  const res = await api('/api/attention', {block: state.block, mode: state.mode, scale: state.scale}, 'maps');
  state.maps = await res.json();
  if (state.head >= state.maps.length) state.head = 0;
  buildHeads();
  drawAll();
}

async function refreshTokens() {
  const res = await api('/api/tokens', {block: state.block, scale: state.scale}, 'tokens');
  state.tokens = parseNpy(await res.arrayBuffer());
  drawHover();
}

async function refreshChart() {
  const res = await api('/api/scaling', {top: 5, block: state.block}, 'chart');
  state.chart = await res.json();
  drawChart();
}

async function rerun() {
  status('running…');
  try {
    await Promise.all([refreshPredict(), refreshMaps(), refreshTokens()]);
    clearError();
    status('');
  } catch (e) { showError(e); }
}

// ---------------------------------------------------------------- controls

function wire() {
  $('image-select').addEventListener('change', (e) => pickDemo(e.target.value));
  $('file').addEventListener('change', (e) => {
    const f = e.target.files[0];
    if (f) useImage(f, f.name);
    e.target.value = '';
  });
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer.files[0];
    if (f) useImage(f, f.name);
  });
  drop.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); $('file').click(); } });

  let timer = null;
  $('scale').addEventListener('input', (e) => {
    state.scale = Math.round(Math.pow(2, Number(e.target.value)) * 1000) / 1000;
    $('scale-value').textContent = '×' + state.scale;
    drawChart();
    clearTimeout(timer);
    timer = setTimeout(rerun, 150);
  });
  $('block').addEventListener('change', (e) => {
    state.block = Number(e.target.value);
    Promise.all([refreshMaps(), refreshTokens()]).catch(showError);
  });
  $('mode').addEventListener('change', (e) => { state.mode = e.target.value; refreshMaps().catch(showError); });
  $('opacity').addEventListener('input', (e) => { state.opacity = Number(e.target.value); drawAll(); });

  const main = $('main');
  main.addEventListener('mousemove', (e) => {
    const r = main.getBoundingClientRect();
    const [gh, gw] = state.health.grid;
    const row = Math.min(gh - 1, Math.floor((e.clientY - r.top) / r.height * gh));
    const col = Math.min(gw - 1, Math.floor((e.clientX - r.left) / r.width * gw));
    setPatch(row * gw + col);
  });
  main.addEventListener('keydown', (e) => {
    const [gh, gw] = state.health.grid;
    let p = state.patch === null ? 0 : state.patch;
    const moves = {ArrowLeft: -1, ArrowRight: 1, ArrowUp: -gw, ArrowDown: gw};
    if (e.key in moves) {
      e.preventDefault();
      const next = p + moves[e.key];
      if (next >= 0 && next < gh * gw && !(Math.abs(moves[e.key]) === 1 && Math.floor(next / gw) !== Math.floor(p / gw))) p = next;
      setPatch(p);
    } else if (e.key === 'Escape') {
      setPatch(null);
    }
  });
  $('heads').addEventListener('keydown', (e) => {
    if (!state.maps || (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight')) return;
    e.preventDefault();
    selectHead((state.head + (e.key === 'ArrowRight' ? 1 : state.maps.length - 1)) % state.maps.length, true);
  });
  $('dl-npz').addEventListener('click', () => download('/api/capture', {block: state.block, scale: state.scale}));
  $('dl-png').addEventListener('click', () => download('/api/figure', {block: state.block, mode: state.mode, scale: state.scale, format: 'png'}));
  $('dl-svg').addEventListener('click', () => download('/api/figure', {block: state.block, mode: state.mode, scale: state.scale, format: 'svg'}));
}

function setPatch(p) {
  state.patch = p;
  drawAll();
}

function selectHead(h, focus) {
  state.head = h;
  document.querySelectorAll('#heads button').forEach((b, i) => b.setAttribute('aria-pressed', String(i === h)));
  if (focus) document.querySelectorAll('#heads button')[h].focus();
  drawAll();
}

async function download(path, params) {
  try {
    const res = await api(path, params, 'download');
    const name = (res.headers.get('Content-Disposition') || '').match(/filename="([^"]+)"/);
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = name ? name[1] : 'vitscope';
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (e) { showError(e); }
}

// ---------------------------------------------------------------- drawing

function drawTop5() {
  const ol = $('top5');
  ol.replaceChildren();
  for (const p of state.predictions) {
    const li = document.createElement('li');
    li.dataset.label = p.label;
    li.dataset.probability = String(p.probability);
    const label = document.createElement('span');
    label.className = 'label';
    label.textContent = p.label;
    const prob = document.createElement('span');
    prob.className = 'prob';
    prob.textContent = p.probability.toFixed(4);
    const bar = document.createElement('div');
    bar.className = 'bar';
    const fill = document.createElement('div');
    fill.style.width = (100 * p.probability).toFixed(1) + '%';
    bar.appendChild(fill);
    li.append(label, prob, bar);
    ol.appendChild(li);
  }
}

function colour(t) {
  const x = Math.max(0, Math.min(1, t)) * (INFERNO.length - 1);
  const i = Math.min(INFERNO.length - 2, Math.floor(x));
  const f = x - i;
  return INFERNO[i].map((c, k) => Math.round(c + f * (INFERNO[i + 1][k] - c)));
}

/** The image with a (G_h, G_w) map over it, the map scaled to its own min..max. */
function drawMap(canvas, map, highlight) {
  const ctx = canvas.getContext('2d');
  const w = canvas.width, h = canvas.height;
  ctx.imageSmoothingEnabled = false;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, w, h);
  if (state.view) ctx.drawImage(state.view, 0, 0, w, h);
  if (!map) return;
  const gh = map.length, gw = map[0].length;
  let lo = Infinity, hi = -Infinity;
  for (const row of map) for (const v of row) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const span = hi - lo || 1;
  ctx.globalAlpha = state.opacity;
  for (let i = 0; i < gh; i++) {
    for (let j = 0; j < gw; j++) {
      const [r, g, b] = colour((map[i][j] - lo) / span);
      ctx.fillStyle = `rgb(${r},${g},${b})`;
      const x0 = Math.floor(j * w / gw), y0 = Math.floor(i * h / gh);
      ctx.fillRect(x0, y0, Math.floor((j + 1) * w / gw) - x0, Math.floor((i + 1) * h / gh) - y0);
    }
  }
  ctx.globalAlpha = 1;
  if (highlight !== null && highlight !== undefined) {
    const i = Math.floor(highlight / gw), j = highlight % gw;
    ctx.strokeStyle = '#4dabf7';
    ctx.lineWidth = Math.max(2, w / 150);
    ctx.strokeRect(j * w / gw + 1, i * h / gh + 1, w / gw - 2, h / gh - 2);
  }
}

function drawAll() {
  if (!state.maps) { drawMap($('main'), null); return; }
  const panel = state.maps[state.head];
  drawMap($('main'), panel, state.patch);
  $('main-caption').textContent = captionOf(state.head) + (state.opacity === 0 ? ' (overlay off)' : '');
  document.querySelectorAll('#heads canvas').forEach((c, i) => drawMap(c, state.maps[i], null));
  drawHover();
}

function captionOf(i) {
  if (state.mode === 'rollout') return 'rollout through blocks 0–' + state.block;
  return 'blocks.' + state.block + ' · head ' + i + ' · ' + state.mode;
}

function buildHeads() {
  const box = $('heads');
  box.replaceChildren();
  state.maps.forEach((_, i) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.setAttribute('aria-pressed', String(i === state.head));
    b.setAttribute('aria-label', captionOf(i));
    const c = document.createElement('canvas');
    c.width = 84;
    c.height = 84;
    const t = document.createElement('span');
    t.textContent = state.mode === 'rollout' ? 'rollout' : 'head ' + i;
    b.append(c, t);
    b.addEventListener('click', () => selectHead(i, false));
    box.appendChild(b);
  });
}

/** Row view: attn[h, q, 1:] of the picked patch q; column view: attn[h, 1:, k] of the picked patch k. */
function drawHover() {
  const t = state.tokens;
  const rowC = $('row-view'), colC = $('col-view');
  if (!t || state.patch === null || !state.health) {
    drawMap(rowC, null);
    drawMap(colC, null);
    return;
  }
  const [n, T] = t.shape;
  const [gh, gw] = state.health.grid;
  const head = Math.min(state.head, n - 1);
  const q = state.patch + 1;
  const at = (i, j) => t.data[(head * T + i) * T + j];
  const row = [], col = [];
  for (let i = 0; i < gh; i++) {
    row.push([]);
    col.push([]);
    for (let j = 0; j < gw; j++) {
      row[i].push(at(q, 1 + i * gw + j));
      col[i].push(at(1 + i * gw + j, q));
    }
  }
  drawMap(rowC, row, state.patch);
  drawMap(colC, col, state.patch);
  const where = 'patch (' + Math.floor(state.patch / gw) + ', ' + state.patch % gw + '), head ' + head;
  $('row-caption').textContent = 'Row: where ' + where + ' looks (class token gets ' + (100 * at(q, 0)).toFixed(1) + '%)';
  $('col-caption').textContent = 'Column: who looks at ' + where + ' (the class token: ' + (100 * at(0, q)).toFixed(1) + '%)';
}

function drawChart() {
  const c = $('chart');
  const ctx = c.getContext('2d');
  const w = c.width, h = c.height;
  ctx.clearRect(0, 0, w, h);
  const data = state.chart;
  if (!data) return;
  const left = 34, right = 8, top = 8, bottom = 44;
  const lx = (f) => left + (Math.log2(f) + 2) / 5 * (w - left - right);
  const ly = (p) => top + (1 - p) * (h - top - bottom);
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#5d6778';
  ctx.strokeStyle = '#dde1e7';
  ctx.lineWidth = 1;
  for (const p of [0, 0.5, 1]) {
    ctx.beginPath(); ctx.moveTo(left, ly(p)); ctx.lineTo(w - right, ly(p)); ctx.stroke();
    ctx.fillText(p.toFixed(1), 6, ly(p) + 4);
  }
  for (const f of [0.25, 0.5, 1, 2, 4, 8]) ctx.fillText('×' + f, lx(f) - 8, h - bottom + 14);
  ctx.strokeStyle = '#adb5bd';
  ctx.setLineDash([3, 3]);
  ctx.beginPath(); ctx.moveTo(lx(state.scale), top); ctx.lineTo(lx(state.scale), h - bottom); ctx.stroke();
  ctx.setLineDash([]);
  let legendX = left;
  data.classes.forEach((k, i) => {
    const colour = LINE_COLOURS[i % LINE_COLOURS.length];
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2;
    ctx.beginPath();
    data.factors.forEach((f, s) => { const x = lx(f), y = ly(k.probabilities[s]); s ? ctx.lineTo(x, y) : ctx.moveTo(x, y); });
    ctx.stroke();
    const text = k.label.length > 12 ? k.label.slice(0, 11) + '…' : k.label;
    if (legendX + ctx.measureText(text).width + 16 > w) return;
    ctx.fillStyle = colour;
    ctx.fillRect(legendX, h - 16, 10, 3);
    ctx.fillStyle = '#1d2430';
    ctx.fillText(text, legendX + 13, h - 11);
    legendX += ctx.measureText(text).width + 24;
  });
}

init().catch(showError);
