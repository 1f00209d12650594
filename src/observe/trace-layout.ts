// src/observe/trace-layout.ts: where the trace page draws a machine. Its states stand in a row in
// the order the definition gives them, after a start dot (with a straight arrow into the initial
// state) and before an "(any state)" box when the root has transitions. Transitions between the
// same two states share one arc, labelled with each event on a line, entering its target with an
// arrowhead; a transition that stays is a loop on its state. Arcs are placed shortest first, each
// above or below the row, wherever it costs less, and as close to the row as it can go with its
// label clear of every label and box placed before it, and, where it can be had, with its line
// clear of other labels: no label covers another. Text widths are estimated for a monospace font,
// which the page uses in its drawings (the page's test checks them in a browser).

import { ANY_STATE, type MachineShape } from './diagram.js';
import { START } from './trace.js';

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export interface NodeLayout extends Rect {
  readonly name: string;
  readonly kind: 'state' | 'start' | 'any';
}

export interface ArcLayout {
  readonly from: string;
  readonly to: string;
  readonly events: string[];
  /** SVG path data, from the source's edge to the target's. */
  readonly path: string;
  /** The label's box; its lines are `events`. */
  readonly label: Rect;
}

export interface MachineLayout {
  readonly width: number;
  readonly height: number;
  readonly nodes: NodeLayout[];
  readonly arcs: ArcLayout[];
}

/** Sizes in CSS pixels; the page's stylesheet uses the same fonts (trace-html.ts). */
export const LAYOUT = {
  stateFont: 12,
  labelFont: 11,
  labelLine: 13,
  /** The advance of a monospace character, in ems (DejaVu Sans Mono, Menlo: 0.60; a little to spare). */
  charWidth: 0.62,
  boxHeight: 28,
  gap: 18,
  margin: 8,
} as const;

type Point = readonly [number, number];
/** A cubic Bézier curve: start, two control points, end. */
type Curve = readonly [Point, Point, Point, Point];

const textWidth = (text: string, font: number) => text.length * font * LAYOUT.charWidth;

/** The start dot's arrow is straight when the initial state comes first: its label sits over it. */
const START_LABEL = 'xstate.init';

function placeNodes(shape: MachineShape): NodeLayout[] {
  const { boxHeight, gap, margin, stateFont, labelFont } = LAYOUT;
  const nodes: NodeLayout[] = [];
  let x = margin;
  const add = (name: string, kind: NodeLayout['kind'], w: number, h: number, after: number = gap) => {
    nodes.push({ name, kind, x, y: (boxHeight - h) / 2, w, h });
    x += w + after;
  };
  if (shape.initial !== undefined) add(START, 'start', 12, 12, textWidth(START_LABEL, labelFont) + 12);
  for (const state of shape.states) add(state, 'state', Math.max(52, textWidth(state, stateFont) + 14), boxHeight);
  if (shape.transitions.some((t) => t.from === ANY_STATE)) add(ANY_STATE, 'any', textWidth(ANY_STATE, stateFont) + 14, boxHeight);
  return nodes;
}

interface ArcPlan {
  readonly from: NodeLayout;
  readonly to: NodeLayout;
  readonly events: string[];
  /** Which edge of the row it runs beyond: -1 the tops, +1 the bottoms. */
  sign: -1 | 1;
  /** Where the arc leaves and enters its nodes' edges. */
  start: Point;
  end: Point;
}

/** One arc per pair of nodes, its events in definition order. */
function planArcs(shape: MachineShape, nodes: NodeLayout[]): ArcPlan[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const plans = new Map<string, ArcPlan>();
  for (const t of shape.transitions) {
    const from = byName.get(t.from);
    const to = byName.get(t.to);
    if (from === undefined || to === undefined) continue;
    const key = `${t.from}\u0000${t.to}`;
    const plan = plans.get(key);
    if (plan === undefined) plans.set(key, { from, to, events: [t.event], sign: -1, start: [0, 0], end: [0, 0] });
    else if (!plan.events.includes(t.event)) plan.events.push(t.event);
  }
  return [...plans.values()];
}

const centreOf = (node: NodeLayout) => node.x + node.w / 2;
const edgeOf = (node: NodeLayout, sign: -1 | 1) => (sign < 0 ? node.y : node.y + node.h);

/** Both ends of an arc at the middle of their nodes' edges (for trying out a side). */
function centrePorts(plan: ArcPlan): void {
  const loop = plan.from === plan.to ? 10 : 0;
  plan.start = [centreOf(plan.from) - loop, edgeOf(plan.from, plan.sign)];
  plan.end = [centreOf(plan.to) + loop, edgeOf(plan.to, plan.sign)];
}

/**
 * Spread the ends of the arcs meeting a node's edge along it so that arcs nested over one another
 * do not cross at their ends: those to the left first, the nearest outermost; then a self-loop's
 * two ends; then those to the right, the farthest innermost.
 */
function assignPorts(arcs: ArcPlan[], nodes: NodeLayout[]): void {
  for (const node of nodes) {
    for (const sign of [-1, 1] as const) {
      const ends: { key: number; set: (p: Point) => void }[] = [];
      const centre = centreOf(node);
      const keyOf = (other: NodeLayout) => {
        const distance = centreOf(other) - centre;
        return distance < 0 ? -1e6 - distance : 1e6 - distance;
      };
      for (const arc of arcs) {
        if (arc.sign !== sign) continue;
        if (arc.from === node && arc.to === node) {
          ends.push({ key: -1, set: (p) => (arc.start = p) }, { key: 1, set: (p) => (arc.end = p) });
        } else if (arc.from === node) ends.push({ key: keyOf(arc.to), set: (p) => (arc.start = p) });
        else if (arc.to === node) ends.push({ key: keyOf(arc.from), set: (p) => (arc.end = p) });
      }
      ends.sort((a, b) => a.key - b.key);
      const inset = Math.min(10, node.w / 4);
      ends.forEach((end, i) => {
        const x = ends.length === 1 ? centre : node.x + inset + ((node.w - 2 * inset) * i) / (ends.length - 1);
        end.set([x, edgeOf(node, sign)]);
      });
    }
  }
}

/** The curve of an arc whose middle lies `depth` beyond the row's edge (above or below). */
function curveAt(plan: ArcPlan, depth: number): Curve {
  const { start, end, sign } = plan;
  const apex = (sign < 0 ? 0 : LAYOUT.boxHeight) + sign * depth;
  // A cubic's middle is (p0 + 3 c1 + 3 c2 + p3) / 8; both control points at one height reach `apex`.
  const control = (8 * apex - start[1] - end[1]) / 6;
  if (plan.from === plan.to) {
    const spread = 14 + depth / 3;
    return [start, [start[0] - spread, control], [end[0] + spread, control], end];
  }
  return [start, [start[0], control], [end[0], control], end];
}

function pointOn([p0, p1, p2, p3]: Curve, t: number): Point {
  const u = 1 - t;
  const a = u * u * u;
  const b = 3 * u * u * t;
  const c = 3 * u * t * t;
  const d = t * t * t;
  return [a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0], a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1]];
}

/** The label's box: just beyond the arc's middle, so that the whole line stays in sight. */
function labelAt(plan: ArcPlan, curve: Curve): Rect {
  const { labelFont, labelLine } = LAYOUT;
  const w = Math.max(...plan.events.map((e) => textWidth(e, labelFont))) + 8;
  const h = plan.events.length * labelLine + 4;
  const [mx, my] = pointOn(curve, 0.5);
  return { x: mx - w / 2, y: plan.sign < 0 ? my - h - 1 : my + 1, w, h };
}

const overlaps = (a: Rect, b: Rect, pad = 2) =>
  a.x < b.x + b.w + pad && b.x < a.x + a.w + pad && a.y < b.y + b.h + pad && b.y < a.y + a.h + pad;
/** Within `r` or `pad` pixels of it: a line that close to a label seems to belong to it. */
const inside = ([x, y]: Point, r: Rect, pad = 3) => x > r.x - pad && x < r.x + r.w + pad && y > r.y - pad && y < r.y + r.h + pad;
const samples = (curve: Curve) => Array.from({ length: 24 }, (_, i) => pointOn(curve, (i + 0.5) / 24));

interface Placed {
  readonly curve: Curve;
  readonly label: Rect;
}

/**
 * The arc at the depth that costs least: its label may not touch a placed label or a node; each
 * crossing of a line through a label costs as much as 15 pixels of depth (more, and the drawings
 * grow too tall to stand together in a window; less, and lines run through labels).
 */
function place(plan: ArcPlan, nodes: readonly Rect[], placed: readonly Placed[]): Placed & { cost: number } {
  let best: (Placed & { cost: number }) | undefined;
  const first = 10;
  for (let depth = first; depth < first + 600; depth += 3) {
    const curve = curveAt(plan, depth);
    const label = labelAt(plan, curve);
    if (nodes.some((n) => overlaps(label, n, 3)) || placed.some((p) => overlaps(label, p.label))) continue;
    const points = samples(curve);
    let crossings = 0;
    for (const p of placed) {
      if (points.some((point) => inside(point, p.label))) crossings++;
      if (samples(p.curve).some((point) => inside(point, label))) crossings++;
    }
    const cost = depth + 15 * crossings;
    if (best === undefined || cost < best.cost) best = { curve, label, cost };
    if (crossings === 0) break;
  }
  if (best === undefined) throw new Error(`no room for the arc ${plan.from.name} -> ${plan.to.name}`);
  return best;
}

/** The start dot's straight arrow into the initial state beside it, labelled above. */
function startArrow(plan: ArcPlan): Placed {
  const y = LAYOUT.boxHeight / 2;
  const [x1, x2] = [plan.from.x + plan.from.w, plan.to.x];
  const w = textWidth(START_LABEL, LAYOUT.labelFont) + 8;
  const h = LAYOUT.labelLine + 4;
  return {
    curve: [
      [x1, y],
      [x1 + 1, y],
      [x2 - 1, y],
      [x2, y],
    ],
    label: { x: (x1 + x2 - w) / 2, y: y - h - 1, w, h },
  };
}

const round = (n: number) => Math.round(n * 10) / 10;
const pathOf = (curve: Curve, dx: number, dy: number) => {
  const [p0, p1, p2, p3] = curve.map(([x, y]) => `${round(x + dx)} ${round(y + dy)}`);
  return `M${p0} C${p1} ${p2} ${p3}`;
};

/**
 * Shortest arcs first, each on the side (above or below the row) where it costs less, tried with
 * its ends at the middle of its nodes; then, the sides settled, the ends spread and every arc
 * placed again in the same order.
 */
function placeArcs(nodes: NodeLayout[], plans: ArcPlan[]): Map<ArcPlan, Placed> {
  const span = (p: ArcPlan) => (p.from === p.to ? -1 : Math.abs(p.to.x - p.from.x));
  const straight = plans.find((p) => p.from.kind === 'start' && nodes[nodes.indexOf(p.from) + 1] === p.to);
  const order = plans.filter((p) => p !== straight).sort((a, b) => span(a) - span(b));
  const fixed: Placed[] = straight === undefined ? [] : [startArrow(straight)];
  const tried: Placed[] = [...fixed];
  for (const plan of order) {
    const [above, below] = ([-1, 1] as const).map((sign) => {
      plan.sign = sign;
      centrePorts(plan);
      return place(plan, nodes, tried);
    });
    plan.sign = above!.cost <= below!.cost ? -1 : 1;
    tried.push(plan.sign < 0 ? above! : below!);
  }
  assignPorts(order, nodes);
  const placed = new Map<ArcPlan, Placed>(straight === undefined ? [] : [[straight, fixed[0]!]]);
  for (const plan of order) placed.set(plan, place(plan, nodes, [...placed.values()]));
  return placed;
}

export function layoutMachine(shape: MachineShape): MachineLayout {
  const nodes = placeNodes(shape);
  const plans = planArcs(shape, nodes);
  const placed = placeArcs(nodes, plans);
  // Everything moves into view: what lies above the row down, what lies left of it right.
  const all = [...placed.values()];
  const ys = all.flatMap((p) => [p.label.y, p.label.y + p.label.h, ...samples(p.curve).map(([, y]) => y)]);
  const dy = LAYOUT.margin - Math.min(0, ...ys);
  const dx = LAYOUT.margin - Math.min(LAYOUT.margin, ...all.map((p) => p.label.x));
  const height = Math.max(LAYOUT.boxHeight, ...ys) + dy + LAYOUT.margin;
  const right = Math.max(...nodes.map((n) => n.x + n.w), ...all.map((p) => p.label.x + p.label.w));
  return {
    width: Math.ceil(right + dx + LAYOUT.margin),
    height: Math.ceil(height),
    nodes: nodes.map((n) => ({ ...n, x: n.x + dx, y: n.y + dy })),
    arcs: plans.map((plan) => {
      const { curve, label } = placed.get(plan)!;
      const moved = { ...label, x: label.x + dx, y: label.y + dy };
      return { from: plan.from.name, to: plan.to.name, events: plan.events, path: pathOf(curve, dx, dy), label: moved };
    }),
  };
}
