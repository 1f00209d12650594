// machines/index.ts: the machines waitstate runs, and the diagrams generated from them.
import type { AnyStateMachine } from 'xstate';
import { channelMachine } from './channel.js';
import { dispatcherMachine } from './dispatcher.js';
import { parserMachine } from './parser.js';
import { supervisorMachine } from './supervisor.js';
import { taskMachine } from './task.js';

export { channelMachine, dispatcherMachine, parserMachine, supervisorMachine, taskMachine };

export const DIAGRAMS: readonly { file: string; machine: AnyStateMachine; title: string }[] = [
  { file: 'channel.md', machine: channelMachine, title: 'Channel: the life of one connection' },
  { file: 'parser.md', machine: parserMachine, title: 'Parser: one request on the way in' },
  { file: 'task.md', machine: taskMachine, title: 'Task: one request in the app and on the way out' },
  { file: 'dispatcher.md', machine: dispatcherMachine, title: 'Dispatcher: tasks onto worker threads' },
  { file: 'supervisor.md', machine: supervisorMachine, title: 'Supervisor: idle sweeps and worker restarts' },
];
