// machines/index.ts: the machines waitstate runs.
export { channelMachine } from './channel.js';
export { dispatcherMachine } from './dispatcher.js';
export { parserMachine } from './parser.js';
export { supervisorMachine } from './supervisor.js';
export { taskMachine } from './task.js';
