// bench/cpuprofile.mjs: summarise a V8 .cpuprofile (from `node --cpu-prof`) by self time.
//
//   node bench/cpuprofile.mjs FILE.cpuprofile [REQUESTS]
//
// Self time of a function = the time of the samples taken while it was on top of the stack
// (sample i lasts until sample i+1, as in Chrome DevTools). Functions are merged by
// name + script + position, so the same function reached through different call paths counts
// once. Groups: where the function's script lives (node internals, native code with no script,
// dist/src, dist/machines, xstate, other node_modules, the bench/example app) plus V8's own
// pseudo-frames: (garbage collector), (idle) = waiting in epoll, (program) = native VM work not
// attributed to a JS function. "% busy" leaves (idle) out; "µs/req" divides self time by
// REQUESTS (the requests served while the profile ran), i.e. cost per request. The profiler
// samples wall-clock time on the JS thread: a native function's time includes the system calls it
// makes (writeLatin1String / writeUtf8String = socket write(2), with loopback TCP delivery), and
// time the thread spent preempted by other processes lands on whatever was running.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, relative, resolve } from 'node:path';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const PSEUDO = { '(idle)': 'idle', '(garbage collector)': 'gc', '(program)': 'program (VM, unattributed)' };

/** The group a call frame belongs to. */
export function groupOf(callFrame) {
  const pseudo = PSEUDO[callFrame.functionName];
  if (pseudo !== undefined && callFrame.url === '') return pseudo;
  const url = callFrame.url;
  if (url === '') return 'native (no script)';
  if (url.startsWith('node:')) return 'node internals';
  const path = url.startsWith('file:') ? fileURLToPath(url) : url;
  if (path.includes('/node_modules/xstate/')) return 'xstate';
  if (path.includes('/node_modules/')) return 'other node_modules';
  const rel = relative(ROOT, path);
  if (rel.startsWith('dist/src/')) return 'dist/src';
  if (rel.startsWith('dist/machines/')) return 'dist/machines';
  if (rel.startsWith('bench/') || rel.startsWith('examples/')) return 'bench + example app';
  return 'other';
}

function placeOf(callFrame) {
  const url = callFrame.url;
  if (url === '') return '';
  let path = url.startsWith('file:') ? fileURLToPath(url) : url;
  const nm = path.lastIndexOf('/node_modules/');
  if (nm !== -1) path = path.slice(nm + '/node_modules/'.length);
  else if (path.startsWith(ROOT + '/')) path = relative(ROOT, path);
  return `${path}:${callFrame.lineNumber + 1}`;
}

/** Self time (µs) per function and per group. */
export function selfTimes(profile) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const perNode = new Map();
  const { samples, timeDeltas } = profile;
  let t = profile.startTime;
  const stamps = new Array(samples.length);
  for (let i = 0; i < samples.length; i++) stamps[i] = t += timeDeltas[i];
  for (let i = 0; i < samples.length; i++) {
    const next = i + 1 < samples.length ? stamps[i + 1] : profile.endTime;
    const dt = Math.max(0, next - stamps[i]);
    perNode.set(samples[i], (perNode.get(samples[i]) ?? 0) + dt);
  }
  const functions = new Map();
  const groups = new Map();
  let total = 0;
  for (const [id, us] of perNode) {
    const cf = nodes.get(id).callFrame;
    const key = `${cf.functionName}\u0000${cf.url}\u0000${cf.lineNumber}\u0000${cf.columnNumber}`;
    let f = functions.get(key);
    if (f === undefined) {
      f = { name: cf.functionName || '(anonymous)', place: placeOf(cf), group: groupOf(cf), us: 0 };
      functions.set(key, f);
    }
    f.us += us;
    groups.set(f.group, (groups.get(f.group) ?? 0) + us);
    total += us;
  }
  return { total, idle: groups.get('idle') ?? 0, functions: [...functions.values()].sort((a, b) => b.us - a.us), groups };
}

const SHORT = {
  'node internals': 'node:internal',
  'native (no script)': 'native',
  'program (VM, unattributed)': 'program',
  'bench + example app': 'app',
  'other node_modules': 'node_modules',
};

const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

/** A printable summary: groups, then the top functions. */
export function summarize(profile, { requests, title = 'profile', top = 25 } = {}) {
  const { total, idle, functions, groups } = selfTimes(profile);
  const busy = total - idle;
  const pct = (us, of) => (of > 0 ? ((100 * us) / of).toFixed(1) : '-');
  const perReq = (us) => (requests > 0 ? (us / requests).toFixed(2) : '-');
  const out = [];
  out.push(
    `${title}: ${(total / 1e6).toFixed(2)} s profiled, ${(busy / 1e6).toFixed(2)} s busy, ` +
      `${profile.samples.length} samples` +
      (requests > 0 ? `, ${requests.toLocaleString('en-US')} requests served, ${perReq(busy)} µs busy per request` : ''),
  );
  out.push('');
  out.push(`  ${pad('group', 28)}${lpad('% total', 9)}${lpad('% busy', 9)}${lpad('µs/req', 9)}`);
  for (const [group, us] of [...groups].sort((a, b) => b[1] - a[1])) {
    out.push(
      `  ${pad(group, 28)}${lpad(pct(us, total), 9)}${lpad(group === 'idle' ? '' : pct(us, busy), 9)}${lpad(group === 'idle' ? '' : perReq(us), 9)}`,
    );
  }
  out.push('');
  out.push(`  top ${top} functions by self time:`);
  out.push(`  ${lpad('% total', 8)}${lpad('% busy', 8)}${lpad('µs/req', 8)}  ${pad('group', 16)}function  (file:line)`);
  for (const f of functions.slice(0, top)) {
    out.push(
      `  ${lpad(pct(f.us, total), 8)}${lpad(f.group === 'idle' ? '' : pct(f.us, busy), 8)}${lpad(f.group === 'idle' ? '' : perReq(f.us), 8)}  ` +
        `${pad(SHORT[f.group] ?? f.group, 15)}${f.name}${f.place ? `  (${f.place})` : ''}`,
    );
  }
  return out.join('\n');
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [file, requests] = process.argv.slice(2);
  if (file === undefined || file === '--help' || file === '-h') {
    console.error('usage: node bench/cpuprofile.mjs FILE.cpuprofile [REQUESTS]');
    process.exit(file === undefined ? 2 : 0);
  }
  console.log(summarize(JSON.parse(readFileSync(file, 'utf8')), { requests: Number(requests) || 0, title: file }));
}
