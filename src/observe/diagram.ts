// src/observe/diagram.ts: render a machine definition as Markdown: a Mermaid stateDiagram-v2 block
// (GitHub renders it) and tables of states and transitions. Everything shown comes from the
// definition, so a diagram cannot drift from its machine; scripts/diagrams.mjs writes diagrams/
// with it and test/observe/diagrams.test.ts fails when diagrams/ is stale. Compound and
// parallel states (the supervisor's regions) are drawn as nested states. A transition on the
// machine's root, which every state takes unless it handles the event itself, is listed once, as
// of *(any state)*, and drawn from each top-level state that may take it.

import type { AnyStateMachine } from 'xstate';
import { channelMachine, dispatcherMachine, parserMachine, supervisorMachine, taskMachine } from '../../machines/index.js';
import { START } from './trace.js';

/** The diagrams drawn, one file of diagrams/ per machine, in the order docs/architecture.md shows them. */
export const DIAGRAMS: readonly { file: string; machine: AnyStateMachine; title: string }[] = [
  { file: 'channel.md', machine: channelMachine, title: 'Channel: the life of one connection' },
  { file: 'parser.md', machine: parserMachine, title: 'Parser: one request on the way in' },
  { file: 'task.md', machine: taskMachine, title: 'Task: one request in the app and on the way out' },
  { file: 'dispatcher.md', machine: dispatcherMachine, title: 'Dispatcher: tasks onto worker threads' },
  { file: 'supervisor.md', machine: supervisorMachine, title: 'Supervisor: idle sweeps and worker restarts' },
];

interface NodeLike {
  key: string;
  parent?: NodeLike;
  path: string[];
  type: string;
  description?: string;
  entry: unknown[];
  transitions: Map<string, TransitionLike[]>;
  always?: TransitionLike[];
  states: Record<string, NodeLike>;
  initial?: { target: NodeLike[] };
}
interface TransitionLike {
  target?: NodeLike[] | undefined;
  guard?: unknown;
  actions: unknown[];
  description?: string;
}

const label = (item: unknown): string =>
  typeof item === 'string'
    ? item
    : item !== null && (typeof item === 'object' || typeof item === 'function') && 'type' in item
      ? String(item.type)
      : '(inline)';
/** Actions xstate adds by itself (the raise that schedules an `after` delay) are not the machine's. */
const own = (item: unknown): boolean => !label(item).startsWith('xstate.');
const alias = (node: NodeLike): string => node.path.join('__').replace(/-/g, '_');
const name = (node: NodeLike): string => node.path.join('.');
const cell = (text: string): string => text.replace(/\|/g, '\\|');
/** `xstate.after.sweepInterval.supervisor.channels.watching` → `after sweepInterval`. */
export const eventLabel = (type: string): string => (type.startsWith('xstate.after.') ? `after ${type.split('.')[2]}` : type);

function children(node: NodeLike): NodeLike[] {
  return Object.values(node.states);
}

/** Mermaid lines for the states inside `node` (a compound state's children, or a region). */
function drawInside(node: NodeLike, indent: string, lines: string[]): void {
  if (node.type === 'parallel') {
    children(node).forEach((region, i) => {
      if (i > 0) lines.push(`${indent}--`);
      drawState(region, indent, lines);
    });
    return;
  }
  const initial = node.initial?.target[0];
  if (initial !== undefined) lines.push(`${indent}[*] --> ${alias(initial)}`);
  for (const child of children(node)) drawState(child, indent, lines);
}

function drawState(node: NodeLike, indent: string, lines: string[]): void {
  if (children(node).length > 0) {
    // Mermaid takes no display name on a composite state: its id is the label.
    lines.push(`${indent}state ${alias(node)} {`);
    drawInside(node, indent + '  ', lines);
    lines.push(`${indent}}`);
  } else {
    lines.push(`${indent}state "${node.key}" as ${alias(node)}`);
  }
  if (node.type === 'final') lines.push(`${indent}${alias(node)} --> [*]`);
}

function allNodes(node: NodeLike): NodeLike[] {
  return children(node).flatMap((child) => [child, ...allNodes(child)]);
}

export function renderMachine(machine: AnyStateMachine, title: string): string {
  const root = machine.root as unknown as NodeLike;
  const lines: string[] = [
    `# ${title}`,
    '',
    `Generated from \`machines/${machine.id}.ts\` by \`npm run diagrams\`; do not edit.`,
    '',
    '```mermaid',
    'stateDiagram-v2',
  ];
  if (root.type === 'parallel') {
    lines.push(`  state ${machine.id} {`);
    drawInside(root, '    ', lines);
    lines.push('  }');
  } else {
    drawInside(root, '  ', lines);
  }
  const rows: string[] = [];
  const row = (state: string, event: string, t: TransitionLike): string => {
    const target = t.target?.[0];
    const guard = t.guard === undefined ? '' : label(t.guard);
    return `| ${state} | ${event} | ${guard} | ${target === undefined ? '*(stays)*' : name(target)} | ${t.actions.map(label).join(', ')} | ${cell(t.description ?? '')} |`;
  };
  const edge = (from: NodeLike, event: string, t: TransitionLike): void => {
    const target = t.target?.[0];
    if (target === undefined) return;
    const guard = t.guard === undefined ? '' : label(t.guard);
    const actions = t.actions.map(label);
    lines.push(
      `  ${alias(from)} --> ${alias(target)}: ${event}${guard ? ` [${guard}]` : ''}${actions.length ? ` / ${actions.join(', ')}` : ''}`,
    );
  };
  for (const [type, list] of root.transitions) {
    for (const t of list) rows.push(row('*(any state)*', eventLabel(type), t));
  }
  for (const node of allNodes(root)) {
    const entry = node.entry.filter(own).map(label);
    if (entry.length > 0) rows.push(`| ${name(node)} | *(entry)* | | | ${entry.join(', ')} | |`);
    const all: [string, TransitionLike][] = [];
    for (const [event, list] of node.transitions) for (const t of list) all.push([eventLabel(event), t]);
    for (const t of node.always ?? []) all.push(['(always)', t]);
    for (const [event, t] of all) {
      edge(node, event, t);
      rows.push(row(name(node), event, t));
    }
    // The root's transitions, where this state may take them: it has no unguarded one of its own.
    if (node.parent !== root || node.type === 'final' || root.type === 'parallel') continue;
    for (const [type, list] of root.transitions) {
      if (node.transitions.get(type)?.some((t) => t.guard === undefined)) continue;
      for (const t of list) edge(node, eventLabel(type), t);
    }
  }
  lines.push('```', '', '## States', '', '| state | description |', '|---|---|');
  for (const node of allNodes(root)) {
    const kind = node.type === 'final' ? ' (final)' : node.type === 'parallel' ? ' (parallel)' : '';
    lines.push(`| ${name(node)}${kind} | ${cell(node.description ?? '')} |`);
  }
  lines.push('', '## Transitions', '', '| state | event | guard | target | actions | why |', '|---|---|---|---|---|---|', ...rows, '');
  return lines.join('\n');
}

const DIAGRAMS_START = '<!-- diagrams:start (generated from machines/ by `npm run diagrams`) -->';
const DIAGRAMS_END = '<!-- diagrams:end -->';

/**
 * `page` with the Mermaid block of each machine put between its diagrams markers (for
 * docs/architecture.md); each titled, with a link to its full file in diagrams/.
 */
export function withDiagrams(page: string, diagrams: readonly { file: string; machine: AnyStateMachine; title: string }[]): string {
  const start = page.indexOf(DIAGRAMS_START);
  const end = page.indexOf(DIAGRAMS_END);
  if (start === -1 || end === -1) throw new Error('the page has no diagrams markers');
  const parts = [DIAGRAMS_START];
  for (const { file, machine, title } of diagrams) {
    const text = renderMachine(machine, title);
    const block = text.slice(text.indexOf('```mermaid'), text.indexOf('```', text.indexOf('```mermaid') + 3) + 3);
    parts.push('', `### ${title}`, '', `([diagrams/${file}](../diagrams/${file}) also lists the events, guards and actions.)`, '', block);
  }
  parts.push('', DIAGRAMS_END);
  return page.slice(0, start) + parts.join('\n') + page.slice(end + DIAGRAMS_END.length);
}

/** What the trace page calls a transition on the machine's root, which any state may take. */
export const ANY_STATE = '(any state)';

/**
 * A machine's states and the transitions between them, as plain data (for the trace page). A
 * transition without a target (the event is handled, the state stays) goes from a state to
 * itself; one on the root goes from ANY_STATE (to itself when it has no target); START goes to
 * the initial state on `xstate.init`.
 */
export interface MachineShape {
  readonly id: string;
  readonly states: string[];
  readonly initial: string | undefined;
  readonly transitions: { from: string; event: string; to: string }[];
}

export function machineShape(machine: AnyStateMachine): MachineShape {
  const root = machine.root as unknown as NodeLike;
  const nodes = allNodes(root);
  const initial = root.initial?.target[0];
  const transitions: MachineShape['transitions'] = [];
  if (initial !== undefined) transitions.push({ from: START, event: 'xstate.init', to: name(initial) });
  for (const node of [root, ...nodes]) {
    const from = node === root ? ANY_STATE : name(node);
    for (const [event, list] of node.transitions) {
      for (const t of list) {
        const target = t.target?.[0];
        transitions.push({ from, event: eventLabel(event), to: target === undefined ? from : name(target) });
      }
    }
  }
  return { id: machine.id, states: nodes.map(name), initial: initial === undefined ? undefined : name(initial), transitions };
}
