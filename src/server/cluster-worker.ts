// src/server/cluster-worker.ts: one process of a `processes` > 1 server (src/server/cluster.ts): serve the
// plan from the environment, report the addresses, close gracefully when told. The primary said
// the start-up warnings once for all; a process says only what goes wrong in it.
import { CLUSTER_PLAN_ENV, planOptions, type ClusterPlan, type FromClusterProcess, type ToClusterProcess } from './cluster.js';
import { startServing } from './serve.js';
import { toWorkerError } from '../workers/protocol.js';

const plan = JSON.parse(process.env[CLUSTER_PLAN_ENV] ?? 'null') as ClusterPlan | null;
const send = (message: FromClusterProcess) => process.send?.(message);

if (plan === null) {
  process.stderr.write('waitstate: cluster-worker.js is started by serve({ processes }), not by hand\n');
  process.exit(2);
}
try {
  const warn = (text: string) => send({ t: 'warning', text });
  const server = await startServing(plan.appRef, planOptions(plan), { spelling: plan.spelling, said: true, warn });
  process.on('message', (message: ToClusterProcess) => {
    if (message.t === 'shutdown') void server.close().then(() => process.exit(0));
  });
  // The primary going away (crash, kill) ends this process too, after its requests finish.
  process.on('disconnect', () => void server.close().then(() => process.exit(0)));
  send({ t: 'listening', addresses: [...server.addresses] });
} catch (error) {
  send({ t: 'failed', error: toWorkerError(error) });
  process.exitCode = 1;
  process.disconnect?.();
}
