// The trace page's drawings: every transition of every machine is on an arc between its states,
// and no label covers another label or a state.
import { describe, expect, it } from 'vitest';
import { ANY_STATE, DIAGRAMS, machineShape } from '../../src/observe/diagram.js';
import { START } from '../../src/observe/trace.js';
import { layoutMachine, type Rect } from '../../src/observe/trace-layout.js';

const overlap = (a: Rect, b: Rect) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

describe.each(DIAGRAMS.map((d) => [d.machine.id, d.machine] as const))('the %s machine drawn for the trace page', (_, machine) => {
  const shape = machineShape(machine);
  const layout = layoutMachine(shape);

  it('has a node for each state, a start dot when there is an initial state, and (any state) when the root has transitions', () => {
    const start = shape.initial === undefined ? [] : [START];
    const any = shape.transitions.some((t) => t.from === ANY_STATE) ? [ANY_STATE] : [];
    expect(layout.nodes.map((n) => n.name).sort()).toEqual([...start, ...shape.states, ...any].sort());
  });

  it('labels the arc between the two states of each transition with its event', () => {
    for (const t of shape.transitions) {
      const arcs = layout.arcs.filter((a) => a.from === t.from && a.to === t.to);
      expect(arcs, `${t.from} --${t.event}--> ${t.to}`).toHaveLength(1);
      expect(arcs[0]!.events).toContain(t.event);
    }
  });

  it('lets no label cover another label or a node, and keeps everything inside the drawing', () => {
    const labels = layout.arcs.map((a) => ({ ...a.label, name: `${a.from} -> ${a.to}` }));
    for (const [i, a] of labels.entries()) {
      for (const b of labels.slice(i + 1)) expect(overlap(a, b), `${a.name} and ${b.name}`).toBe(false);
      for (const n of layout.nodes) expect(overlap(a, n), `${a.name} and ${n.name}`).toBe(false);
      expect(a.x >= 0 && a.y >= 0 && a.x + a.w <= layout.width && a.y + a.h <= layout.height, a.name).toBe(true);
    }
  });
});

describe('the connection machines drawn for the trace page', () => {
  // At 1400 pixels the drawings get 972 beside the step list; shrunk to fit, text stays at 90% or more.
  it('fit beside the step list in a 1400-pixel window', () => {
    for (const id of ['channel', 'parser', 'task']) {
      const machine = DIAGRAMS.find((d) => d.machine.id === id)!.machine;
      expect(layoutMachine(machineShape(machine)).width, id).toBeLessThanOrEqual(972 / 0.9);
    }
  });
});
