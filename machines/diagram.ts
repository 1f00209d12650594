// machines/diagram.ts: render a machine definition as Markdown: a Mermaid stateDiagram-v2 block
// (GitHub renders it) and a transition table. Everything shown comes from the definition, so a
// diagram cannot drift from the machine; scripts/diagrams.mjs writes diagrams/ with it and
// test/machines/diagrams.test.ts fails when diagrams/ is stale.

import type { AnyStateMachine } from 'xstate';

interface NodeLike {
  key: string;
  type: string;
  description?: string;
  entry: unknown[];
  exit: unknown[];
  transitions: Map<string, TransitionLike[]>;
  always?: TransitionLike[];
  states: Record<string, NodeLike>;
}
interface TransitionLike {
  target?: NodeLike[] | undefined;
  guard?: unknown;
  actions: unknown[];
  description?: string;
}

const label = (item: unknown): string =>
  typeof item === 'string' ? item : item !== null && typeof item === 'object' && 'type' in item ? String(item.type) : '(inline)';
const alias = (name: string): string => name.replace(/-/g, '_');
const cell = (text: string): string => text.replace(/\|/g, '\\|');

export function renderMachine(machine: AnyStateMachine, title: string): string {
  const root = machine.root as unknown as NodeLike & { initial?: { target: NodeLike[] } };
  const lines: string[] = [
    `# ${title}`,
    '',
    `Generated from \`machines/${machine.id}.ts\` by \`npm run diagrams\`; do not edit.`,
    '',
    '```mermaid',
    'stateDiagram-v2',
  ];
  for (const node of Object.values(root.states)) {
    if (node.key.includes('-')) lines.push(`  state "${node.key}" as ${alias(node.key)}`);
  }
  const initial = root.initial?.target[0]?.key;
  if (initial !== undefined) lines.push(`  [*] --> ${alias(initial)}`);
  const rows: string[] = [];
  for (const node of Object.values(root.states)) {
    const entry = node.entry.map(label);
    if (entry.length > 0) rows.push(`| ${node.key} | *(entry)* | | | ${entry.join(', ')} | |`);
    const all: [string, TransitionLike][] = [];
    for (const [event, list] of node.transitions) for (const t of list) all.push([event, t]);
    for (const t of node.always ?? []) all.push(['(always)', t]);
    for (const [event, t] of all) {
      const guard = t.guard === undefined ? '' : label(t.guard);
      const actions = t.actions.map(label);
      const target = t.target?.[0]?.key;
      if (target !== undefined) {
        const text = `${event}${guard ? ` [${guard}]` : ''}${actions.length ? ` / ${actions.join(', ')}` : ''}`;
        lines.push(`  ${alias(node.key)} --> ${alias(target)}: ${text}`);
      }
      rows.push(`| ${node.key} | ${event} | ${guard} | ${target ?? '*(stays)*'} | ${actions.join(', ')} | ${cell(t.description ?? '')} |`);
    }
    if (node.type === 'final') lines.push(`  ${alias(node.key)} --> [*]`);
  }
  lines.push('```', '', '## States', '', '| state | description |', '|---|---|');
  for (const node of Object.values(root.states)) {
    lines.push(`| ${node.key}${node.type === 'final' ? ' (final)' : ''} | ${cell(node.description ?? '')} |`);
  }
  lines.push('', '## Transitions', '', '| state | event | guard | target | actions | why |', '|---|---|---|---|---|---|', ...rows, '');
  return lines.join('\n');
}
