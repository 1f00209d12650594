// test/helpers/cli-process.ts: waitstate-serve run as a real process, its output collected, and
// the port it serves on read from its "Serving on URL" line.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { until } from './wait.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const cli = `${root}dist/src/cli/serve.js`;

export interface CliProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** How to start it: `detached` in a process group of its own, as a shell runs a command (a Ctrl-C
 * signals the group); `systemdFd` as systemd socket activation does: that descriptor as fd 3,
 * LISTEN_FDS=1 and LISTEN_PID its own pid (a shell sets it, then execs node in place). */
export interface CliStart {
  detached?: boolean;
  systemdFd?: number;
}

/** Run waitstate-serve with `args` in `cwd`; `live` collects it, for the test to kill what is left. */
export function runCli(
  args: readonly string[],
  cwd: string,
  live: ChildProcess[],
  { detached = false, systemdFd }: CliStart = {},
): CliProcess {
  const child =
    systemdFd === undefined
      ? spawn(process.execPath, [cli, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached })
      : spawn('/bin/sh', ['-c', 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"', process.execPath, cli, ...args], {
          cwd,
          stdio: ['ignore', 'pipe', 'pipe', systemdFd],
          detached,
        });
  live.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

/** Wait for `pattern` in what the process wrote on `stream`, or fail saying what it wrote. */
export async function printed(
  proc: CliProcess,
  pattern: RegExp,
  stream: 'stdout' | 'stderr' = 'stdout',
  ms = 5_000,
): Promise<RegExpExecArray> {
  let match: RegExpExecArray | null = null;
  await until(() => (match = pattern.exec(proc[stream]())) !== null || proc.child.exitCode !== null, ms);
  if (match === null) throw new Error(`no ${pattern}; stdout ${proc.stdout()} stderr ${proc.stderr()}`);
  return match;
}

/** The port of the `nth` "Serving on" line (1 = the first), once printed. */
export async function servingPort(proc: CliProcess, nth = 1, ms = 10_000): Promise<number> {
  const ports = () => [...proc.stderr().matchAll(/Serving on http:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
  await until(() => ports().length >= nth || proc.child.exitCode !== null, ms);
  const port = ports()[nth - 1];
  if (port === undefined) throw new Error(`no "Serving on" line #${nth}; stdout ${proc.stdout()} stderr ${proc.stderr()}`);
  return port;
}

/** Every process descended from `pid` now (`ps`, on Linux and macOS alike). */
export function descendants(pid: number): number[] {
  const table = execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  for (let parents = [pid]; parents.length > 0;) {
    parents = table.filter(([, ppid]) => parents.includes(ppid)).map(([child]) => child);
    found.push(...parents);
  }
  return found;
}

/** Whether a process is still there (a zombie not yet reaped counts as gone). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const state = execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    return state !== '' && !state.startsWith('Z');
  } catch {
    return false; // gone between the two looks
  }
}
