// src/app-ref.ts: an app named by reference, `MODULE:OBJECT` (waitress-serve's `module:object`).
//
// MODULE is a path to an ES module, relative to a directory (the CLI's current directory) or
// absolute; OBJECT a dotted path inside it (`app`, `default`, `app.fetch`). A reference is what
// crosses into a worker thread: a function cannot, so each worker imports the module itself.

import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { OptionError } from './errors.js';
import type { App } from './app.js';

const WHAT = 'MODULE:OBJECT';

function split(ref: string): { modulePath: string; objectPath: string[] } {
  const colon = ref.lastIndexOf(':');
  if (colon <= 0 || colon === ref.length - 1) {
    throw new OptionError(WHAT, `"${ref}" is not MODULE:OBJECT (for example examples/hello/app.mjs:app)`);
  }
  return { modulePath: ref.slice(0, colon), objectPath: ref.slice(colon + 1).split('.') };
}

/** The same reference with an absolute module path, so it means the same thing in any thread. */
export function resolveAppRef(ref: string, cwd: string): string {
  const { modulePath, objectPath } = split(ref);
  return `${isAbsolute(modulePath) ? modulePath : resolve(cwd, modulePath)}:${objectPath.join('.')}`;
}

/** Import MODULE and walk OBJECT's dotted path; a method is bound to the object holding it. */
export async function loadAppRef(ref: string, cwd: string): Promise<App> {
  const { modulePath, objectPath } = split(ref);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolve(cwd, modulePath)).href)) as Record<string, unknown>;
  } catch (error) {
    throw new OptionError(WHAT, `cannot import ${modulePath}: ${(error as Error).message}`);
  }
  let holder: unknown = undefined;
  let value: unknown = mod;
  for (const key of objectPath) {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function') || !(key in (value as object))) {
      throw new OptionError(WHAT, `${modulePath} has no export "${objectPath.join('.')}"`);
    }
    holder = value;
    value = (value as Record<string, unknown>)[key];
  }
  if (typeof value === 'function') return holder !== mod ? (value as (...a: unknown[]) => Response).bind(holder) : (value as App);
  if (value !== null && typeof value === 'object' && typeof (value as { fetch?: unknown }).fetch === 'function') return value as App;
  throw new OptionError(WHAT, `${ref} is neither a function nor an object with a fetch method`);
}
