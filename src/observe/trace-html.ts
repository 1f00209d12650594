// src/observe/trace-html.ts: a trace of one connection as a self-contained HTML page (no network: the
// Stately inspector UI is online only). Each machine of the connection is drawn from its
// definition, states in a row and transitions as arcs; the page steps through the trace, lighting
// the state each step reached and the arc it took. `#step=N` in the URL opens step N.

import { DIAGRAMS, machineShape, type MachineShape } from './diagram.js';
import type { TraceLine } from './trace.js';

/** JSON inside a <script> element: nothing in it may close the element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

export function renderTraceHtml(lines: readonly TraceLine[], connection: number): string {
  const steps = lines.filter((l) => l.connection === connection);
  if (steps.length === 0) throw new Error(`the trace has no connection ${connection}`);
  const actors = new Set(steps.map((l) => l.actor));
  const machines: MachineShape[] = DIAGRAMS.map((d) => machineShape(d.machine)).filter((m) => actors.has(m.id));
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>waitstate trace: connection ${connection}</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
  h2 { font-size: 1em; margin: 1.2em 0 .3em; }
  svg { display: block; max-width: 100%; }
  .state rect { fill: #f4f4f4; stroke: #999; rx: 6; }
  .state.at rect { fill: #dde8ff; stroke: #4a6fd1; }
  .state.current rect { fill: #ffd966; stroke: #b38600; stroke-width: 2; }
  .state text { text-anchor: middle; dominant-baseline: middle; }
  .edge { fill: none; stroke: #bbb; }
  .edge.taken { stroke: #b38600; stroke-width: 3; }
  #steps li.current { background: #ffd966; }
  #steps { font-family: ui-monospace, monospace; font-size: 12px; max-height: 40vh; overflow: auto; }
  button { font-size: 1em; margin-right: .5em; }
</style></head>
<body>
<h1>Connection ${connection}</h1>
<p><button id="prev">◀ previous</button><button id="next">next ▶</button><span id="status"></span></p>
<div id="machines"></div>
<ol id="steps"></ol>
<script id="trace" type="application/json">${scriptJson({ steps, machines })}</script>
<script>
const { steps, machines } = JSON.parse(document.getElementById('trace').textContent);
const SVG = 'http://www.w3.org/2000/svg';
const box = { w: 130, h: 34, gap: 40 };
const el = (tag, attrs, parent) => { const e = document.createElementNS(SVG, tag); for (const k in attrs) e.setAttribute(k, attrs[k]); parent.appendChild(e); return e; };
const safe = (s) => s.replace(/[^a-zA-Z0-9_-]/g, '_');
for (const m of machines) {
  const h = document.createElement('h2'); h.textContent = m.id; document.getElementById('machines').appendChild(h);
  const x = (i) => 10 + i * (box.w + box.gap);
  const mid = 150;
  const svg = el('svg', { width: x(m.states.length), height: 300, id: 'm-' + m.id }, document.getElementById('machines'));
  const at = new Map(m.states.map((s, i) => [s, i]));
  m.transitions.forEach((t, k) => {
    const a = at.get(t.from), b = at.get(t.to);
    if (a === undefined || b === undefined) return;
    const x1 = x(a) + box.w / 2, x2 = x(b) + box.w / 2;
    const up = b >= a;
    const lift = a === b ? 50 : 30 + Math.abs(b - a) * 22;
    const y = up ? mid - box.h / 2 : mid + box.h / 2;
    const cy = up ? y - lift : y + lift;
    const d = a === b ? 'M' + (x1 - 20) + ' ' + y + ' C ' + (x1 - 40) + ' ' + cy + ' ' + (x1 + 40) + ' ' + cy + ' ' + (x1 + 20) + ' ' + y
                      : 'M' + x1 + ' ' + y + ' Q ' + ((x1 + x2) / 2) + ' ' + cy + ' ' + x2 + ' ' + y;
    const edge = el('path', { d, class: 'edge', 'data-from': t.from, 'data-event': t.event, 'data-to': t.to }, svg);
    el('title', {}, edge).textContent = t.from + ' --' + t.event + '--> ' + t.to;
  });
  m.states.forEach((s, i) => {
    const g = el('g', { class: 'state', id: 'm-' + m.id + '-s-' + safe(s) }, svg);
    el('rect', { x: x(i), y: mid - box.h / 2, width: box.w, height: box.h }, g);
    el('text', { x: x(i) + box.w / 2, y: mid }, g).textContent = s;
  });
}
const list = document.getElementById('steps');
steps.forEach((s, i) => {
  const li = document.createElement('li');
  li.textContent = s.t.toFixed(3) + ' ms  ' + s.actor + '  ' + s.from + ' --' + s.event + '--> ' + s.to;
  li.onclick = () => show(i);
  list.appendChild(li);
});
let current = 0;
function show(i) {
  current = Math.max(0, Math.min(steps.length - 1, i));
  document.querySelectorAll('.current, .at, .taken').forEach((e) => e.classList.remove('current', 'at', 'taken'));
  const last = new Map();
  for (let k = 0; k <= current; k++) last.set(steps[k].actor, steps[k].to);
  for (const [actor, state] of last) document.getElementById('m-' + actor + '-s-' + safe(state))?.classList.add('at');
  const step = steps[current];
  document.getElementById('m-' + step.actor + '-s-' + safe(step.to))?.classList.add('current');
  document.querySelectorAll('#m-' + step.actor + ' .edge').forEach((e) => {
    if (e.dataset.from === step.from && e.dataset.event === step.event && e.dataset.to === step.to) e.classList.add('taken');
  });
  list.querySelectorAll('li').forEach((li, k) => li.classList.toggle('current', k === current));
  document.getElementById('status').textContent = 'step ' + (current + 1) + ' of ' + steps.length + ': ' + step.actor + ' ' + step.from + ' --' + step.event + '--> ' + step.to;
  history.replaceState(null, '', '#step=' + (current + 1));
}
document.getElementById('prev').onclick = () => show(current - 1);
document.getElementById('next').onclick = () => show(current + 1);
addEventListener('keydown', (e) => { if (e.key === 'ArrowLeft') show(current - 1); if (e.key === 'ArrowRight') show(current + 1); });
const asked = /step=(\\d+)/.exec(location.hash);
show(asked ? Number(asked[1]) - 1 : 0);
</script>
</body></html>
`;
}
