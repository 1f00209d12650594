// src/app-ref.ts: an app named by reference, `MODULE:OBJECT` (waitress-serve's `module:object`).
//
// MODULE is a path to an ES module, relative to a directory (the CLI's current directory) or
// absolute; OBJECT a dotted path inside it (`app`, `default`, `app.fetch`). `MODULE:OBJECT()`
// names a factory: the app is what calling it returns, awaited (waitress-serve's --call; the
// spelling is gunicorn's). A reference is what crosses into a worker thread or a process: a
// function cannot, so each one imports the module (and calls the factory) itself.
//
// A module that cannot be loaded is reported as node reports it: a syntax error by its file,
// line and caret, an error thrown while the module ran by its stack (src/errors.ts AppLoadError).

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AppLoadError, codeOf, OptionError } from './errors.js';
import type { App } from './app.js';

const WHAT = 'MODULE:OBJECT';
/** What ends the reference of a factory to call: `app.mjs:createApp()`. */
const CALL = '()';

interface ParsedRef {
  modulePath: string;
  objectPath: string[];
  call: boolean;
}

function split(ref: string): ParsedRef {
  const call = ref.endsWith(CALL);
  const bare = call ? ref.slice(0, -CALL.length) : ref;
  const colon = bare.lastIndexOf(':');
  if (colon < 0) {
    // Hono and most Fetch apps are a module's default export.
    throw new OptionError(WHAT, `"${ref}" names no OBJECT: serve ${ref}:default for the module's default export, or ${ref}:NAME`);
  }
  if (colon === 0 || colon === bare.length - 1) {
    throw new OptionError(WHAT, `"${ref}" is not MODULE:OBJECT (for example examples/hello/app.mjs:app)`);
  }
  const object = bare.slice(colon + 1);
  if (/[()]/.test(object)) throw new OptionError(WHAT, `"${ref}": a factory is called without arguments, as OBJECT()`);
  return { modulePath: bare.slice(0, colon), objectPath: object.split('.'), call };
}

/** The reference that serves what OBJECT returns when called (waitstate-serve --call). */
export function callingRef(ref: string): string {
  return ref.endsWith(CALL) ? ref : ref + CALL;
}

/** The same reference with an absolute module path, so it means the same thing in any thread. */
export function resolveAppRef(ref: string, cwd: string): string {
  const { modulePath, objectPath, call } = split(ref);
  return `${isAbsolute(modulePath) ? modulePath : resolve(cwd, modulePath)}:${objectPath.join('.')}${call ? CALL : ''}`;
}

/** The module file a reference names, absolute; an OptionError, as the import's, when there is none. */
export function existingAppModule(ref: string, cwd: string): string {
  const file = resolve(cwd, split(ref).modulePath);
  if (!existsSync(file)) throw new OptionError(WHAT, `cannot import ${shownPath(file)}: Cannot find module '${file}'`);
  return file;
}

/** A file as messages name it: relative to the current directory when inside it, so every thread says the same. */
export function shownPath(file: string): string {
  const inside = relative(process.cwd(), file);
  return inside === '' || inside.startsWith('..') || isAbsolute(inside) ? file : inside;
}

/** A reference as messages name it, whichever thread or process says it: `app.mjs:createApp`, without the `()`. */
export function shownRef(ref: string): string {
  const { modulePath, objectPath } = split(ref);
  return `${shownPath(resolve(modulePath))}:${objectPath.join('.')}`;
}

/** An app, and why the object it came from looks like a factory that should have been called (said at start-up). */
export interface LoadedApp {
  app: App;
  factoryHint: string | undefined;
}

/**
 * Import MODULE and walk OBJECT's dotted path; a method is bound to the object holding it. With
 * OBJECT(), the app is what the factory returns (a class is constructed), awaited.
 */
export async function loadAppRef(ref: string, cwd: string): Promise<LoadedApp> {
  const { modulePath, objectPath, call } = split(ref);
  const file = resolve(cwd, modulePath);
  const name = `${shownPath(file)}:${objectPath.join('.')}`;
  const mod = await importApp(file);
  let holder: unknown = undefined;
  let value: unknown = mod;
  for (const key of objectPath) {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function') || !(key in (value as object))) {
      throw new OptionError(WHAT, `${shownPath(file)} has no export "${objectPath.join('.')}"`);
    }
    holder = value;
    value = (value as Record<string, unknown>)[key];
  }
  const self = holder === mod ? undefined : holder;
  if (call) return { app: await callFactory(name, value, self), factoryHint: undefined };
  if (isClass(value)) {
    // A class cannot answer a request: calling it without new throws, every time.
    throw new OptionError(WHAT, `${name} is a class, not an app: serve an instance, made by --call (which constructs it)`);
  }
  if (typeof value === 'function') {
    const why = factoryLikeness(value);
    const factoryHint =
      why === undefined
        ? undefined
        : `waitstate: ${name} looks like a factory (${why}): if it makes the app, serve what it returns with --call`;
    const app = self === undefined ? (value as App) : (value as (...a: unknown[]) => Response).bind(self);
    return { app, factoryHint };
  }
  if (isApp(value)) return { app: value, factoryHint: undefined };
  throw new OptionError(WHAT, `${name} is neither a function nor an object with a fetch method`);
}

function isApp(value: unknown): value is App {
  return (
    typeof value === 'function' ||
    (value !== null && typeof value === 'object' && typeof (value as { fetch?: unknown }).fetch === 'function')
  );
}

/** Names a factory often has: createApp, makeServer, buildApp, getApp, initRouter, appFactory. */
const FACTORY_NAME = /^(?:create|make|build|get|new|init|setup|bootstrap)[A-Z_$\d]|.Factory$/;

function isClass(value: unknown): boolean {
  return typeof value === 'function' && /^class\b/.test(Function.prototype.toString.call(value));
}

/**
 * Why a function looks like it makes the app rather than answers requests, or undefined. Only
 * signs a handler does not have: a handler takes the request, so a factory's name alone is not
 * enough; a request that returns an app is caught too (src/fetch/read-response.ts).
 */
function factoryLikeness(fn: object): string | undefined {
  const { name, length } = fn as { name: string; length: number };
  if (length === 0 && FACTORY_NAME.test(name)) return `it takes no parameters and is named ${name}`;
  return undefined;
}

/** Call OBJECT (construct it, if a class) and check that what it gives, awaited, is an app. */
async function callFactory(name: string, factory: unknown, self: unknown): Promise<App> {
  if (typeof factory !== 'function') {
    throw new OptionError(WHAT, `${name} is ${whatItIs(factory)}, not a function to call (--call): serve it without --call`);
  }
  let made: unknown;
  try {
    made = isClass(factory) ? new (factory as new () => unknown)() : await (factory as (this: unknown) => unknown).call(self);
  } catch (error) {
    throw new AppLoadError(`${name}() threw (--call): ${summary(error)}`, userFrames(error), { cause: error });
  }
  if (isApp(made)) return made;
  if (made instanceof Response) {
    throw new OptionError(WHAT, `${name}() returned a Response: ${name} is the app itself, not a factory: serve it without --call`);
  }
  throw new OptionError(
    WHAT,
    `${name}() returned ${whatItIs(made)}, not an app: with --call, the factory must return a function (request) => Response or an object with a fetch method`,
  );
}

function whatItIs(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object without a fetch method' : typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`;
}

/**
 * Import the app module. Its absence is the reference's fault (an OptionError, one line); a module
 * it imports that is missing is one line too; anything else is the module's own failure,
 * reported with where it happened.
 */
async function importApp(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file).href;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    const code = codeOf(error);
    const message = error instanceof Error ? error.message : String(error);
    if (code === 'ERR_MODULE_NOT_FOUND' && (error as { url?: unknown }).url === url) {
      // Node names the importer, which is this file: no help to whoever typed the path.
      throw new OptionError(WHAT, `cannot import ${shownPath(file)}: ${message.replace(/ imported from .*$/, '')}`);
    }
    // The loader's own errors (a missing module, a package that does not export a path) say it all.
    if (code !== undefined && code.startsWith('ERR_'))
      throw new AppLoadError(`cannot import ${shownPath(file)}: ${message}`, '', { cause: error });
    throw new AppLoadError(`cannot import ${shownPath(file)}: ${summary(error)}`, whereItFailed(error, file), { cause: error });
  }
}

function summary(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

const OUR_DIRECTORY = dirname(fileURLToPath(import.meta.url));

/** The stack's frames in the app's code: Node's loader and waitstate's own frames are noise to its author. */
function userFrames(error: unknown): string {
  if (!(error instanceof Error) || error.stack === undefined) return '';
  return error.stack
    .split('\n')
    .filter((line) => /^\s+at /.test(line) && !line.includes('node:internal') && !line.includes(OUR_DIRECTORY))
    .join('\n');
}

/**
 * Where a module failed, as node shows it: for a syntax error the file, the line and a caret
 * under the fault; else the stack.
 */
function whereItFailed(error: unknown, file: string): string {
  if (!(error instanceof Error) || error.name !== 'SyntaxError' || error.stack === undefined) return userFrames(error);
  const heading = `${error.name}: ${error.message}`;
  const at = error.stack.indexOf(`\n${heading}`);
  // Node decorated the stack with the place (a missing export, and some Node versions' syntax errors).
  if (at > 0) return error.stack.slice(0, at).trimEnd();
  // A runtime SyntaxError (JSON.parse at top level) has frames in the app; a compile error has none.
  const frames = userFrames(error);
  if (frames !== '') return frames;
  return syntaxErrorSite(file) ?? '';
}

/** How many of the files the app module imports are checked for the syntax error, at most. */
const MAX_CHECKED_FILES = 50;
/** Extensions node --check reads as JavaScript. */
const SCRIPT_EXTENSIONS = new Set(['.js', '.mjs', '.cjs']);

/**
 * A compile error from import() carries no place in Node 20 (node keeps it in a private slot
 * it prints only for an entry point). `node --check` prints it for one file, so the app
 * module is checked, then the files it imports by relative path, breadth first: the file,
 * the line and the caret, or undefined if none of them fails the check.
 */
function syntaxErrorSite(appFile: string): string | undefined {
  const queue = [appFile];
  const seen = new Set(queue);
  for (let i = 0; i < queue.length && i < MAX_CHECKED_FILES; i++) {
    const file = queue[i]!;
    if (!SCRIPT_EXTENSIONS.has(extname(file))) continue;
    const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 10_000 });
    if (check.status !== 0 && check.stderr !== null) {
      // The place is what node prints before the blank line that precedes the error's name.
      const place = /^([\s\S]*?)\n\n\w*Error: /.exec(check.stderr);
      if (place !== null) return place[1]!;
    }
    for (const imported of relativeImports(file)) {
      if (!seen.has(imported)) {
        seen.add(imported);
        queue.push(imported);
      }
    }
  }
  return undefined;
}

/** The files a module imports by relative path (`import … from './x.mjs'`, `export … from`, `import('./x.mjs')`). */
function relativeImports(file: string): string[] {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const match of source.matchAll(/\b(?:from|import)\s*\(?\s*(['"])(\.\.?\/[^'"\n]+)\1/g)) {
    found.push(resolve(dirname(file), match[2]!));
  }
  return found;
}
