// The house rules, checked on every run: each folder imports only the folders beneath it, no two
// modules import each other (even through others), the two sans-I/O layers touch no I/O, and no
// function outgrows what a reader can hold. The folders and their rules are drawn in
// docs/architecture.md; each folder's README.md says the same in words.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Which layers a layer may import, besides itself. A layer is a folder of src/ (`http`,
 * `connection`, …), `ground` (the files at the top of src/ but index.ts), `index`, or `machines`.
 */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  http: [],
  machines: ['http'],
  ground: [],
  config: ['ground', 'http'],
  runtime: ['ground', 'config'],
  fetch: ['ground', 'http'],
  websocket: ['ground', 'http', 'fetch'],
  observe: ['ground', 'config', 'runtime', 'machines'],
  workers: ['ground', 'config', 'http', 'fetch', 'runtime', 'machines', 'websocket'],
  connection: ['ground', 'config', 'http', 'fetch', 'runtime', 'machines', 'observe', 'workers', 'websocket'],
  server: ['ground', 'config', 'http', 'fetch', 'runtime', 'machines', 'observe', 'workers', 'connection', 'websocket'],
  cli: ['ground', 'config', 'observe', 'server'],
  audit: [],
  index: ['ground', 'config', 'fetch', 'server', 'websocket'],
};
/** Layers that are sans-I/O: no node: module, no timer, no clock, no process. */
const PURE = new Set(['http', 'machines']);
/** The longest function body, in lines, a reader is asked to hold. */
const MAX_FUNCTION_LINES = 100;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : path.endsWith('.ts') ? [path] : [];
  });
}
const files = [...walk(join(root, 'src')), ...walk(join(root, 'machines'))];

function layerOf(file: string): string {
  const [top, second] = relative(root, file).split('/');
  if (top === 'machines') return 'machines';
  // The package's entry points: 'waitstate' and 'waitstate/hono'.
  if (second === 'index.ts' || second === 'hono.ts') return 'index';
  return second!.endsWith('.ts') ? 'ground' : second!;
}

interface Import {
  readonly specifier: string;
  /** The file imported, for one of ours. */
  readonly target: string | undefined;
  readonly typeOnly: boolean;
}

/**
 * Every module a file names, read by the TypeScript parser so that comments and strings never
 * count: `import … from`, `export … from`, `import 'x'`, `import('x')` and `typeof import('x')`.
 * Only `import type` and `export type` (and a type's `import('x')`) are type-only.
 */
function importsOf(file: string, source = readFileSync(file, 'utf8')): Import[] {
  const tree = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const found: Import[] = [];
  const add = (literal: ts.Expression | undefined, typeOnly: boolean) => {
    if (literal === undefined || !ts.isStringLiteralLike(literal)) return;
    const specifier = literal.text;
    const target = specifier.startsWith('.') ? resolve(dirname(file), specifier).replace(/\.js$/, '.ts') : undefined;
    found.push({ specifier, target, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, node.importClause?.isTypeOnly ?? false);
    else if (ts.isExportDeclaration(node)) add(node.moduleSpecifier, node.isTypeOnly);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node.arguments[0], false);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal, true);
    ts.forEachChild(node, visit);
  };
  visit(tree);
  return found;
}
const graph = new Map(files.map((file) => [file, importsOf(file)]));

/** What is wrong with a file's imports, one sentence each. */
function layerViolations(file: string, imports: readonly Import[]): string[] {
  const layer = layerOf(file);
  const found: string[] = [];
  for (const { specifier, target, typeOnly } of imports) {
    if (target === undefined) {
      if (PURE.has(layer) && specifier !== 'xstate') found.push(`${layer} stays pure, yet imports ${specifier}`);
      continue;
    }
    const to = layerOf(target);
    if (to === layer) continue;
    if (!MAY_IMPORT[layer]!.includes(to)) found.push(`${layer} may not import ${to} (${relative(root, target)})`);
    // A machine definition names what it needs of the codec, but runs none of it.
    else if (layer === 'machines' && !typeOnly) found.push(`machines imports values from ${specifier}; types only`);
  }
  return found;
}

describe('each folder imports only the layers beneath it', () => {
  test('every file belongs to a known layer', () => {
    expect(files.map(layerOf).filter((layer) => MAY_IMPORT[layer] === undefined)).toEqual([]);
  });
  test.each(files.map((f) => [relative(root, f), f]))('%s', (_name, file) => {
    expect(layerViolations(file, graph.get(file)!)).toEqual([]);
  });
  test('the check finds an import that goes up, a value a machine imports, and I/O in a pure layer', () => {
    const codec = join(root, 'src/http/head.ts');
    const machine = join(root, 'machines/channel.ts');
    expect(
      layerViolations(codec, [{ specifier: '../connection/channel.js', target: join(root, 'src/connection/channel.ts'), typeOnly: true }]),
    ).toHaveLength(1);
    expect(layerViolations(codec, [{ specifier: 'node:net', target: undefined, typeOnly: false }])).toHaveLength(1);
    expect(layerViolations(machine, [{ specifier: '../src/http/head.js', target: codec, typeOnly: false }])).toHaveLength(1);
    expect(layerViolations(machine, [{ specifier: '../src/http/head.js', target: codec, typeOnly: true }])).toEqual([]);
  });
  test('the imports read are every kind of import, and none in a comment or a string', () => {
    const code = [
      "import type { A } from './a.js';",
      "import { type B, c } from './b.js';",
      "export { d } from './d.js';",
      "import './e.js';",
      "const f = await import('./f.js');",
      "type G = typeof import('./g.js');",
      "// import { h } from './h.js'; and import('./h.js')",
      'const text = "import { i } from \'./i.js\'";',
    ].join('\n');
    const found = importsOf(join(root, 'src/x.ts'), code).map(({ specifier, typeOnly }) => `${specifier}${typeOnly ? ' (type)' : ''}`);
    expect(found).toEqual(['./a.js (type)', './b.js', './d.js', './e.js', './f.js', './g.js (type)']);
  });
});

describe('docs/architecture.md draws the same layers', () => {
  test('its arrows are the rules, ground floor and audit aside', () => {
    const page = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
    const block = /<!-- layers:start[^>]*-->([\s\S]*?)<!-- layers:end -->/.exec(page)?.[1] ?? '';
    const drawn = [...block.matchAll(/^\s+(\w+) --> (\w+)$/gm)].map((m) => `${m[1]} -> ${m[2]}`).sort();
    const rules = Object.entries(MAY_IMPORT)
      .flatMap(([from, tos]) => tos.filter((to) => to !== 'ground').map((to) => `${from} -> ${to}`))
      .sort();
    expect(drawn).toEqual(rules);
  });
});

describe('each folder says what it holds', () => {
  const folders = [join(root, 'machines'), ...readdirSync(join(root, 'src')).map((name) => join(root, 'src', name))].filter((path) =>
    statSync(path).isDirectory(),
  );
  test.each(folders.map((f) => [relative(root, f), f]))('%s/README.md names every file in it', (_name, folder) => {
    const readme = readFileSync(join(folder, 'README.md'), 'utf8');
    const unnamed = readdirSync(folder).filter((file) => file.endsWith('.ts') && !readme.includes('`' + file + '`'));
    expect(unnamed).toEqual([]);
  });
  test.each(folders.map((f) => [relative(root, f), f]))('%s/README.md says what it may import, as MAY_IMPORT does', (_name, folder) => {
    const layer = layerOf(join(folder, 'x.ts'));
    const readme = readFileSync(join(folder, 'README.md'), 'utf8');
    expect(readmeImports(readme)).toEqual([...MAY_IMPORT[layer]!].sort());
  });
  test('the README check reads the folders a "May import" paragraph names', () => {
    const readme = '# x\n\n`src/http/` is not named here.\n\nMay import: the ground floor, `src/config/`\nand `machines/` (types).\n';
    expect(readmeImports(readme)).toEqual(['config', 'ground', 'machines']);
    expect(readmeImports('May import: nothing of ours.\n')).toEqual([]);
    expect(readmeImports('# no such paragraph\n')).toBeUndefined();
  });
});

/** What is wrong with a file's first line (after a `#!` line): it must be `// its/path.ts: what it is`. */
function headerProblem(path: string, source: string): string | undefined {
  const first = source.replace(/^#!.*\n/, '').split('\n', 1)[0]!;
  return first.startsWith(`// ${path}: `) ? undefined : `${path} starts with ${JSON.stringify(first.slice(0, 60))}`;
}

describe('each file says what it is', () => {
  test.each(files.map((f) => [relative(root, f), f]))('%s starts with "// its path: what it is"', (path, file) => {
    expect(headerProblem(path, readFileSync(file, 'utf8'))).toBeUndefined();
  });
  test('the check finds a file without its header, or with another path in it', () => {
    expect(headerProblem('src/x.ts', '#!/usr/bin/env node\n// src/x.ts: a thing\n')).toBeUndefined();
    expect(headerProblem('src/x.ts', '// A thing.\n')).toBeDefined();
    expect(headerProblem('src/x.ts', '// src/y.ts: a thing\n')).toBeDefined();
  });
});

/** The layers a README's "May import:" paragraph names, sorted; undefined when it has none. */
function readmeImports(readme: string): string[] | undefined {
  const paragraph = /^May import\b[\s\S]*?(?:\n\s*\n|(?![\s\S]))/m.exec(readme)?.[0];
  if (paragraph === undefined) return undefined;
  const named = new Set([...paragraph.matchAll(/`src\/(\w+)\/`/g)].map((m) => m[1]!));
  if (paragraph.includes('`machines/`')) named.add('machines');
  if (paragraph.includes('ground floor')) named.add('ground');
  return [...named].sort();
}

describe('the sans-I/O layers touch no I/O', () => {
  const pure = files.filter((file) => PURE.has(layerOf(file)));
  test.each(pure.map((f) => [relative(root, f), f]))('%s uses no timers, clock, process, console or dynamic import', (_name, file) => {
    const code = readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '');
    expect(code).not.toMatch(
      /\b(setTimeout|setInterval|setImmediate|queueMicrotask|process\.|Date\.now|performance\.|console\.|require\(|import\()/,
    );
  });
});

/** Strongly connected components of more than one module, or a module importing itself (Tarjan). */
function importCircles(): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, next);
    low.set(file, next++);
    stack.push(file);
    onStack.add(file);
    for (const { target } of graph.get(file) ?? []) {
      if (target === undefined || !graph.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file)!, index.get(target)!));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(relative(root, member));
    } while (member !== file);
    const selfImport = graph.get(file)!.some((i) => i.target === file);
    if (component.length > 1 || selfImport) circles.push(component.sort());
  };
  for (const file of files) if (!index.has(file)) visit(file);
  return circles;
}

describe('no import circles', () => {
  test('no module imports itself through others (type-only imports count)', () => {
    expect(importCircles()).toEqual([]);
  });
  test('the check finds a circle when there is one', () => {
    const [a, b] = files;
    const saved = [graph.get(a!)!, graph.get(b!)!];
    const before = importCircles().length;
    graph.set(a!, [...saved[0]!, { specifier: 'x', target: b, typeOnly: true }]);
    graph.set(b!, [...saved[1]!, { specifier: 'y', target: a, typeOnly: true }]);
    try {
      expect(importCircles()).toHaveLength(before + 1);
    } finally {
      graph.set(a!, saved[0]!);
      graph.set(b!, saved[1]!);
    }
  });
});

/** Every function, method and arrow with a body longer than `max` lines. */
function longFunctions(file: string, max: number): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      if (last - first + 1 > max) {
        const name = node.name !== undefined ? node.name.getText(source) : '(anonymous)';
        found.push(`${relative(root, file)}:${first + 1} ${name}: ${last - first + 1} lines`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Files outside src/ and machines/ that may use what those export. */
const users = ['test', 'bench', 'scripts', 'examples'].flatMap((dir) =>
  readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.(ts|mjs|js)$/.test(name) && !name.includes('node_modules'))
    .map((name) => join(root, dir, name)),
);
const sourceOf = new Map([...files, ...users].map((file) => [file, readFileSync(file, 'utf8')]));
/** Exports Node looks up by name (module customization hooks), not code of ours. */
const CALLED_BY_NODE = new Set(['src/cli/reload-hooks.ts initialize', 'src/cli/reload-hooks.ts load']);

/** The values (functions, classes, constants) a file exports that no other file names. */
function unusedExports(file: string, source = sourceOf.get(file)!): string[] {
  const tree = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const exported = tree.statements.flatMap((statement) => {
    if (!ts.canHaveModifiers(statement) || !ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) return [];
    if (ts.isVariableStatement(statement)) return statement.declarationList.declarations.map((d) => d.name.getText(tree));
    if ((ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) && statement.name) return [statement.name.text];
    return [];
  });
  return exported
    .filter((name) => !CALLED_BY_NODE.has(`${relative(root, file)} ${name}`))
    .filter((name) => ![...sourceOf].some(([other, text]) => other !== file && new RegExp(`\\b${name}\\b`).test(text)))
    .map((name) => `${relative(root, file)}: ${name}`);
}

describe('no export without a user', () => {
  test('every function, class and constant exported from src/ or machines/ is used by another file (tests count)', () => {
    expect(files.flatMap((file) => unusedExports(file))).toEqual([]);
  });
  test('the check finds an export nobody imports', () => {
    const file = join(root, 'src/http/x.ts');
    // The name is built from pieces, so that this file does not use it.
    const unused = 'nobody' + 'CallsThis';
    const source = `export const parseHead = 1;\nexport function ${unused}() {}\nexport type NorThis = 1;\n`;
    expect(unusedExports(file, source)).toEqual([`src/http/x.ts: ${unused}`]);
  });
});

describe('functions a reader can hold', () => {
  test(`no function in src/ or machines/ is over ${MAX_FUNCTION_LINES} lines`, () => {
    expect(files.flatMap((file) => longFunctions(file, MAX_FUNCTION_LINES))).toEqual([]);
  });
  test('the check finds a long function', () => {
    expect(longFunctions(join(root, 'src/http/head.ts'), 10).length).toBeGreaterThan(0);
  });
});
