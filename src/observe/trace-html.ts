// src/observe/trace-html.ts: a trace of one connection as a self-contained HTML page (no network: the
// Stately inspector UI is online only). Each machine of the connection is drawn from its
// definition (trace-layout.ts places it); beside the drawings, the steps of the trace, grouped by
// the request they served ("GET /hello → 200"). The page steps through them, lighting the state
// each step reached and the arc it took, and keeps the step and its machine in view.
// `#step=N` in the URL opens step N.

import { ANY_STATE, DIAGRAMS, eventLabel, machineShape } from './diagram.js';
import { LAYOUT, layoutMachine, type ArcLayout, type MachineLayout, type NodeLayout } from './trace-layout.js';
import { START, type TraceLine } from './trace.js';

/** JSON inside a <script> element: nothing in it may close the element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');
const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
/** The id of a machine's drawing of a state (no dots or parentheses: ids are matched by CSS selectors too). */
const nodeId = (machine: string, state: string) => `m-${machine}-s-${state.replace(/[^a-zA-Z0-9_-]/g, '_')}`;

/**
 * The requests a connection served, and which request each step served (-1: none yet). A request
 * begins where the parser read its head (or refused it); its task's steps, and the channel's
 * `task.done` or `task.failed`, are that request's even when logged after the next head was read
 * (a pipelined request is read while the channel takes `task.done`, and logged first).
 */
export interface TraceRequests {
  /** `GET /hello → 200`; `(bad head) → 400` when the head was refused; `…` while no status was written. */
  readonly labels: string[];
  readonly of: number[];
}

export function traceRequests(steps: readonly TraceLine[]): TraceRequests {
  const requests: { request: string; status: number | undefined }[] = [];
  let current = -1;
  let tasked = -1;
  const of = steps.map((step) => {
    if (step.request !== undefined || (step.actor === 'parser' && step.event === 'head.failed')) {
      requests.push({ request: step.request ?? '(bad head)', status: undefined });
      current = requests.length - 1;
    } else if (step.status !== undefined && (current === -1 || requests[current]!.status !== undefined) && step.actor !== 'task') {
      // A status with no head read since the last one: a request refused before its head was whole (a 408).
      requests.push({ request: '(no whole head)', status: undefined });
      current = requests.length - 1;
    }
    if (step.actor === 'task' && step.from === START) tasked = current;
    const served = step.actor === 'task' || (step.actor === 'channel' && step.event.startsWith('task.')) ? tasked : current;
    if (step.status !== undefined && served >= 0) requests[served]!.status = step.status;
    return served;
  });
  return { labels: requests.map((r) => `${r.request} → ${r.status ?? '…'}`), of };
}

const STYLE = `
  * { box-sizing: border-box; }
  html, body { height: 100%; margin: 0; }
  body { font: 14px system-ui, sans-serif; color: #222; display: grid; height: 100vh;
         grid-template: auto 1fr / minmax(0, 1fr) 400px; }
  header { grid-column: 1 / 3; padding: .6em 1em .4em; border-bottom: 1px solid #ddd; }
  h1 { font-size: 1.2em; margin: 0; display: inline; }
  header p { margin: .25em 0; }
  .which, .legend { color: #555; font-size: 13px; }
  #request { font-weight: 600; margin-left: .6em; }
  #status { font-family: ui-monospace, monospace; font-size: 13px; margin-left: .6em; }
  button { font-size: 1em; margin-right: .3em; }
  #machines { overflow: auto; padding: 0 1em 1em; }
  h2 { font-size: 1em; margin: .8em 0 0; }
  #machines section { scroll-margin: .5em; }
  svg.machine { display: block; max-width: 100%; height: auto; }
  .node text { font: ${LAYOUT.stateFont}px ui-monospace, monospace; text-anchor: middle; dominant-baseline: central; }
  .node rect { fill: #f4f4f4; stroke: #999; }
  .node.any rect { fill: #fff; stroke-dasharray: 4 3; }
  .node.any text { font-style: italic; fill: #555; }
  .node.start circle { fill: #555; }
  .node.at rect { fill: #dde8ff; stroke: #4a6fd1; }
  .node.current rect { fill: #ffd966; stroke: #b38600; stroke-width: 2; }
  .arc path { fill: none; stroke: #9a9a9a; stroke-width: 1.2; marker-end: url(#arrow); }
  .label rect { fill: #fff; fill-opacity: .9; stroke: none; }
  .label text { font: ${LAYOUT.labelFont}px ui-monospace, monospace; fill: #333; }
  .arc.hover path { stroke: #333; stroke-width: 2; }
  .label.hover rect { stroke: #333; }
  .arc.taken path { stroke: #b38600; stroke-width: 3; marker-end: url(#arrow-taken); }
  .label.taken rect { fill: #fff4cc; fill-opacity: 1; stroke: #b38600; }
  .label tspan.taken { font-weight: 700; fill: #000; }
  #steps { overflow: auto; border-left: 1px solid #ddd; font: 11px ui-monospace, monospace; padding: 0 0 1em; }
  #steps .request { position: sticky; top: 0; background: #eef2fa; font: 600 13px system-ui, sans-serif;
                    padding: .35em .8em; border-bottom: 1px solid #d5dced; }
  #steps .step { padding: .1em .8em; cursor: pointer; display: grid; grid-template-columns: 11ch 8ch 1fr; }
  /* Scrolled to, a step keeps clear of the sticky request heading above it and of the edge below. */
  #steps .step { scroll-margin: 2.5em 0 1.5em; }
  #steps .step:hover { background: #f3f3f3; }
  #steps .step.current { background: #ffd966; }
  #steps .w { white-space: nowrap; }
  #steps .of { color: #777; font-style: italic; }
  .t { color: #888; text-align: right; padding-right: 1ch; }
  .actor { font-weight: 600; }
`;

function nodeSvg(machine: string, node: NodeLayout): string {
  const id = nodeId(machine, node.name);
  if (node.kind === 'start') {
    return `<g class="node start" id="${id}"><title>start</title><circle cx="${node.x + node.w / 2}" cy="${node.y + node.h / 2}" r="${node.w / 2}"/></g>`;
  }
  const title = node.kind === 'any' ? '<title>transitions any state takes that has none of its own for the event</title>' : '';
  return (
    `<g class="node ${node.kind}" id="${id}">${title}<rect x="${node.x}" y="${node.y}" width="${node.w}" height="${node.h}" rx="6"/>` +
    `<text x="${node.x + node.w / 2}" y="${node.y + node.h / 2}">${escapeHtml(node.name)}</text></g>`
  );
}

/** An arc's line; its label is drawn apart (labelSvg), over every line. */
function arcSvg(arc: ArcLayout, labelId: string): string {
  const title = arc.events.map((e) => `${arc.from} --${e}--> ${arc.to}`).join('\n');
  return (
    `<g class="arc" data-from="${escapeHtml(arc.from)}" data-to="${escapeHtml(arc.to)}" data-label="${labelId}">` +
    `<title>${escapeHtml(title)}</title><path d="${arc.path}"/></g>`
  );
}

function labelSvg(arc: ArcLayout, labelId: string): string {
  const { label } = arc;
  const lines = arc.events.map(
    (e, i) =>
      `<tspan x="${label.x + 4}" y="${label.y + 2 + LAYOUT.labelLine * (i + 0.8)}" data-event="${escapeHtml(e)}">${escapeHtml(e)}</tspan>`,
  );
  return (
    `<g class="label" id="${labelId}"><rect x="${label.x}" y="${label.y}" width="${label.w}" height="${label.h}" rx="3"/>` +
    `<text>${lines.join('')}</text></g>`
  );
}

function machineSvg(id: string, layout: MachineLayout): string {
  const labelId = (k: number) => `m-${id}-label-${k}`;
  return (
    `<svg class="machine" id="m-${id}" width="${layout.width}" height="${layout.height}" viewBox="0 0 ${layout.width} ${layout.height}">` +
    layout.arcs.map((arc, k) => arcSvg(arc, labelId(k))).join('') +
    layout.arcs.map((arc, k) => labelSvg(arc, labelId(k))).join('') +
    layout.nodes.map((n) => nodeSvg(id, n)).join('') +
    '</svg>'
  );
}

/** The arrowheads every arc points with (one document-wide definition, in a hidden drawing). */
const MARKERS = `<svg width="0" height="0" style="position:absolute"><defs>
<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" markerUnits="userSpaceOnUse" orient="auto"><path d="M0 1 L10 5 L0 9 z" fill="#9a9a9a"/></marker>
<marker id="arrow-taken" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="11" markerHeight="11" markerUnits="userSpaceOnUse" orient="auto"><path d="M0 1 L10 5 L0 9 z" fill="#b38600"/></marker>
</defs></svg>`;

function stepsHtml(steps: readonly TraceLine[], requests: TraceRequests): string {
  const start = steps[0]!.t;
  let shown = -1;
  return steps
    .map((s, i) => {
      const served = requests.of[i]!;
      let header = i === 0 && served === -1 ? '<div class="request">connection opened</div>' : '';
      let note = '';
      if (served > shown) {
        header = `<div class="request">${escapeHtml(requests.labels[served]!)}</div>`;
        shown = served;
      } else if (served !== shown) note = ` <span class="of">(for request ${served + 1})</span>`;
      const words = [s.from, `--${s.event}-->`, s.to].map((w) => `<span class="w">${escapeHtml(w)}</span>`);
      return (
        `${header}<div class="step" data-step="${i}"><span class="t">${(s.t - start).toFixed(3)} ms</span> ` +
        `<span class="actor">${escapeHtml(s.actor)}</span> <span>${words.join(' ')}${note}</span></div>`
      );
    })
    .join('\n');
}

/** Which connection the page shows, among those the trace holds. */
function whichText(connection: number, ids: readonly number[]): string {
  if (ids.length <= 1) return 'The only connection in this trace.';
  const listed = ids.length > 12 ? `${ids.slice(0, 12).join(', ')}, …` : ids.join(', ');
  const first = ids[0] === connection ? 'The first of' : 'One of';
  return `${first} ${ids.length} connections in this trace (${listed}); <code>waitstate-trace FILE --connection N --html OUT</code> shows another.`;
}

export function renderTraceHtml(lines: readonly TraceLine[], connection: number): string {
  const steps = lines.filter((l) => l.connection === connection).map((l) => ({ ...l, event: eventLabel(l.event) }));
  if (steps.length === 0) throw new Error(`the trace has no connection ${connection}`);
  const ids = [...new Set(lines.map((l) => l.connection).filter((id): id is number => id !== null))];
  const actors = new Set(steps.map((l) => l.actor));
  const machines = DIAGRAMS.filter((d) => actors.has(d.machine.id)).map((d) => ({
    id: d.machine.id,
    title: d.title,
    shape: machineShape(d.machine),
  }));
  const drawings = machines.map(
    (m) => `<section id="sec-${m.id}"><h2>${escapeHtml(m.title)}</h2>${machineSvg(m.id, layoutMachine(m.shape))}</section>`,
  );
  const requests = traceRequests(steps);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>waitstate trace: connection ${connection}</title>
<style>${STYLE}</style></head>
<body>
<header>
<h1>waitstate trace: connection ${connection}</h1> <span class="which">${whichText(connection, ids)}</span>
<p><button id="prev" title="previous step (←)">◀ previous</button><button id="next" title="next step (→)">next ▶</button><span id="request"></span><span id="status"></span></p>
<p class="legend">Yellow: the state this step reached, by the bold arc. Blue: the state each other machine is in. Arcs point from a state to the next; each is labelled with the events that take it. Steps: ← → keys, or click one.</p>
</header>
${MARKERS}
<div id="machines">${drawings.join('\n')}</div>
<div id="steps">
${stepsHtml(steps, requests)}
</div>
<script id="trace" type="application/json">${scriptJson({ steps: steps.map(({ actor, from, event, to }) => ({ actor, from, event, to, node: nodeId(actor, to) })), requests, any: ANY_STATE })}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}

const SCRIPT = `
const { steps, requests, any } = JSON.parse(document.getElementById('trace').textContent);
const items = [...document.querySelectorAll('#steps .step')];
const labelOf = (arc) => document.getElementById(arc.dataset.label);
const lineOf = (arc, event) => [...labelOf(arc).querySelectorAll('tspan')].find((t) => t.dataset.event === event);
/** The arc a step took: its own, else one any state takes (the machine's root). */
function arcOf(step) {
  const arcs = [...document.querySelectorAll('#m-' + step.actor + ' .arc')].filter((a) => lineOf(a, step.event));
  return arcs.find((a) => a.dataset.from === step.from && a.dataset.to === step.to)
    ?? arcs.find((a) => a.dataset.from === any && (a.dataset.to === step.to || (a.dataset.to === any && step.from === step.to)));
}
// Pointing at an arc or its label shows which belong together.
for (const arc of document.querySelectorAll('.arc')) {
  const both = [arc, labelOf(arc)];
  for (const e of both) {
    e.addEventListener('mouseenter', () => both.forEach((x) => x.classList.add('hover')));
    e.addEventListener('mouseleave', () => both.forEach((x) => x.classList.remove('hover')));
  }
}
let current = 0;
function show(i) {
  current = Math.max(0, Math.min(steps.length - 1, i));
  document.querySelectorAll('.current, .at, .taken').forEach((e) => e.classList.remove('current', 'at', 'taken'));
  const last = new Map();
  for (let k = 0; k <= current; k++) last.set(steps[k].actor, steps[k].node);
  for (const node of last.values()) document.getElementById(node)?.classList.add('at');
  const step = steps[current];
  document.getElementById(step.node)?.classList.add('current');
  const arc = arcOf(step);
  if (arc) {
    [arc, labelOf(arc), lineOf(arc, step.event)].forEach((e) => e.classList.add('taken'));
    // Drawn last but for the states, the arc taken crosses over every other line and label.
    const firstNode = arc.ownerSVGElement.querySelector('.node');
    firstNode.before(arc, labelOf(arc));
  }
  items[current].classList.add('current');
  items[current].scrollIntoView({ block: 'nearest' });
  document.getElementById('sec-' + step.actor)?.scrollIntoView({ block: 'nearest' });
  const served = requests.of[current];
  document.getElementById('request').textContent = served < 0 ? 'before the first request' : 'request ' + (served + 1) + ' of ' + requests.labels.length + ': ' + requests.labels[served];
  document.getElementById('status').textContent = 'step ' + (current + 1) + ' of ' + steps.length + ': ' + step.actor + ' ' + step.from + ' --' + step.event + '--> ' + step.to;
  history.replaceState(null, '', '#step=' + (current + 1));
}
items.forEach((item, k) => (item.onclick = () => show(k)));
document.getElementById('prev').onclick = () => show(current - 1);
document.getElementById('next').onclick = () => show(current + 1);
addEventListener('keydown', (e) => {
  if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') { show(current - 1); e.preventDefault(); }
  if (e.key === 'ArrowRight' || e.key === 'ArrowDown') { show(current + 1); e.preventDefault(); }
  if (e.key === 'Home') show(0);
  if (e.key === 'End') show(steps.length - 1);
});
const asked = /step=(\\d+)/.exec(location.hash);
show(asked ? Number(asked[1]) - 1 : 0);
`;
