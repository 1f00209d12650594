// src/cli/reload.ts: `waitstate-serve --reload`, for development: the server runs in a child
// process, restarted when a file the app imports changes (pserve's --reload, through hupper).
//
// The child is this CLI again, with the same arguments but --reload, preloading
// src/cli/reload-register.ts: its main thread, worker threads and processes all report the files
// they import (src/cli/reload-hooks.ts) to a file this process reads, and this process watches
// the directories holding them (a directory, not the file: an editor that saves by renaming a new
// file over the old one would leave a watch on the file watching the old one). fs.watch is
// enough for that (one non-recursive watch a directory), so no watcher library is needed.
//
// A change, once changes stop for a moment (editors write more than once), stops the child
// gracefully (SIGTERM) and starts another on the same addresses: after the first start, the
// addresses it bound are pinned (a --port=0 stays the port it got). A child that fails (a syntax
// error) has printed why; the next change starts another. SIGINT or SIGTERM stops the child, then
// this process.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BoundAddress } from '../app.js';
import { shownPath } from '../app-ref.js';
import { builtScript } from '../built-script.js';
import { RELOAD_REPORT_ENV } from './reload-hooks.js';

/** Addresses the restarted server binds again, space-separated `HOST:PORT` (set in its environment). */
const RELOAD_LISTEN_ENV = 'WAITSTATE_RELOAD_LISTEN';
/** Changes this close together are one edit. */
const SETTLE_MS = 150;
/** How long a child may take to close gracefully before it is killed. */
const STOP_GRACE_MS = 10_000;

/** What the child tells this process over IPC once it serves. */
interface ChildListening {
  t: 'waitstate-listening';
  addresses: BoundAddress[];
}

// ---- in the child -------------------------------------------------------------------------

/** In a server started by --reload: the options with its listeners pinned to the first child's addresses. */
export function pinnedListeners(options: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const pinned = env[RELOAD_LISTEN_ENV];
  if (pinned === undefined) return options;
  const { host: _host, port: _port, listen: _listen, ...rest } = options;
  return { ...rest, listen: pinned.split(' ') };
}

/**
 * In a server started by --reload: tell the reloader what was bound, and stop if the reloader is
 * gone. Returns whether this server runs under a reloader.
 */
export function reportToReloader(addresses: readonly BoundAddress[], stop: () => void): boolean {
  if (process.send === undefined || process.env[RELOAD_REPORT_ENV] === undefined) return false;
  process.send({ t: 'waitstate-listening', addresses: [...addresses] } satisfies ChildListening);
  process.on('disconnect', stop);
  return true;
}

// ---- in the reloader ----------------------------------------------------------------------

/** The watched files, by the directories that hold them: one fs.watch a directory. */
class FileWatch {
  readonly #files = new Set<string>();
  readonly #watchers = new Map<string, FSWatcher>();
  readonly #onChange: (file: string) => void;

  constructor(onChange: (file: string) => void) {
    this.#onChange = onChange;
  }

  add(file: string): void {
    if (this.#files.has(file)) return;
    this.#files.add(file);
    const dir = dirname(file);
    if (this.#watchers.has(dir)) return;
    try {
      const watcher = watch(dir, (_event, name) => {
        const changed = name === null ? undefined : join(dir, name.toString());
        if (changed !== undefined && this.#files.has(changed)) this.#onChange(changed);
      });
      // A directory removed under the watch: nothing more will come from it.
      watcher.on('error', () => watcher.close());
      this.#watchers.set(dir, watcher);
    } catch {
      // A directory that is gone cannot be watched; a file created there later is not noticed.
    }
  }

  close(): void {
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
  }
}

interface ReloaderOutput {
  out: (line: string) => void;
  err: (line: string) => void;
}

/**
 * Serve `args` (the command line without --reload) in a child, restarted on changes to `files`
 * (the app module, the config file) and the files the app imports. Resolves with the exit code
 * once stopped by a signal.
 */
export function serveReloading(args: readonly string[], files: readonly string[], output: ReloaderOutput): Promise<number> {
  return new Promise<number>((resolve) => {
    const reloader = new Reloader(args, output);
    for (const file of files) reloader.watch(file);
    const stop = () => void reloader.stop().then(resolve);
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    reloader.start();
  });
}

class Reloader {
  readonly #args: readonly string[];
  readonly #output: ReloaderOutput;
  /** Where the child's threads and processes report the files they import (src/cli/reload-hooks.ts). */
  readonly #scratch = mkdtempSync(join(tmpdir(), 'waitstate-reload-'));
  readonly #report = join(this.#scratch, 'files');
  #readUpTo = 0;
  readonly #files = new FileWatch((file) => this.#changed(file));
  readonly #reportWatch: FSWatcher;
  #child: ChildProcess | undefined;
  /** The first child's TCP addresses, `HOST:PORT` space-separated, bound again by the next ones. */
  #pinned: string | undefined;
  /** Files changed since the last restart, in the order they changed. */
  #changes: string[] = [];
  #settle: NodeJS.Timeout | undefined;
  #restarting: Promise<void> | undefined;
  #stopping: Promise<number> | undefined;

  constructor(args: readonly string[], output: ReloaderOutput) {
    this.#args = args;
    this.#output = output;
    this.#reportWatch = watch(this.#scratch, () => this.#readReport());
  }

  watch(file: string): void {
    this.#files.add(file);
  }

  start(): void {
    // The last child is gone: what it reported is watched already, and the new one reports afresh.
    writeFileSync(this.#report, '');
    this.#readUpTo = 0;
    const env = {
      ...process.env,
      [RELOAD_REPORT_ENV]: this.#report,
      ...(this.#pinned === undefined ? {} : { [RELOAD_LISTEN_ENV]: this.#pinned }),
    };
    const register = pathToFileURL(builtScript('cli/reload-register.js')).href;
    const child = spawn(process.execPath, [...process.execArgv, '--import', register, builtScript('cli/serve.js'), ...this.#args], {
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      env,
    });
    this.#child = child;
    child.on('message', (message: ChildListening) => {
      if (message.t !== 'waitstate-listening') return;
      this.#readReport();
      // A Unix socket keeps its path; TCP ports are pinned, so that a port 0 stays the one bound.
      if (this.#pinned === undefined && message.addresses.every((a) => a.family !== 'unix')) {
        this.#pinned = message.addresses.map((a) => (a.family === 'IPv6' ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`)).join(' ');
      }
    });
    child.on('exit', (code, signal) => {
      this.#readReport();
      if (this.#child === child) this.#child = undefined;
      if (this.#stopping !== undefined || this.#restarting !== undefined) return;
      this.#output.err(`waitstate-serve: the server stopped (${signal ?? `exit code ${code}`}); it restarts when a file changes`);
    });
  }

  /** Stop watching, stop the child; resolves with the exit code. Asked twice, the child is killed at once. */
  stop(): Promise<number> {
    if (this.#stopping !== undefined) {
      this.#child?.kill('SIGKILL');
      return this.#stopping;
    }
    clearTimeout(this.#settle);
    this.#files.close();
    this.#reportWatch.close();
    this.#stopping = (async () => {
      await this.#restarting;
      await this.#stopChild();
      rmSync(this.#scratch, { recursive: true, force: true });
      return 0;
    })();
    return this.#stopping;
  }

  #changed(file: string): void {
    if (this.#stopping !== undefined) return;
    if (!this.#changes.includes(file)) this.#changes.push(file);
    clearTimeout(this.#settle);
    this.#settle = setTimeout(() => void this.#restart(), SETTLE_MS);
  }

  async #restart(): Promise<void> {
    if (this.#stopping !== undefined) return;
    if (this.#restarting !== undefined) {
      // A change during a restart: once it is done, restart again.
      this.#settle = setTimeout(() => void this.#restart(), SETTLE_MS);
      return;
    }
    const names = this.#changes.map(shownPath);
    this.#changes = [];
    this.#output.out(`waitstate-serve: ${names[0]}${names.length > 1 ? ` (and ${names.length - 1} more)` : ''} changed: restarting`);
    this.#restarting = this.#stopChild();
    await this.#restarting;
    this.#restarting = undefined;
    if (this.#stopping === undefined) this.start();
  }

  /** SIGTERM, and SIGKILL if the child has not closed in STOP_GRACE_MS. */
  async #stopChild(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(killer);
  }

  /** Take the paths reported since the last read; a line cut by a write in progress waits for the next. */
  #readReport(): void {
    let fresh: Buffer;
    try {
      const fd = openSync(this.#report, 'r');
      try {
        fresh = Buffer.alloc(Math.max(0, fstatSync(fd).size - this.#readUpTo));
        fresh = fresh.subarray(0, readSync(fd, fresh, 0, fresh.length, this.#readUpTo));
      } finally {
        closeSync(fd);
      }
    } catch {
      return;
    }
    const end = fresh.lastIndexOf(0x0a) + 1;
    for (const line of fresh.subarray(0, end).toString('utf8').split('\n')) if (line !== '') this.#files.add(line);
    this.#readUpTo += end;
  }
}
