// test/architecture/docs.test.ts: the Markdown a user reads stays whole. Every relative link (and
// #anchor) in the repository's Markdown leads somewhere that exists in the repository, every
// repository path the prose names exists, no table row has more or fewer cells than its header,
// every code block marked `<!-- file: PATH -->` is that file as it is, and neither docs nor code
// send the reader to notes that only the authors have.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git', '.bench']);

function walk(dir: string, keep: (path: string) => boolean): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (SKIPPED_DIRS.has(name)) return [];
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path, keep) : keep(path) ? [path] : [];
  });
}

const markdownFiles = walk(root, (path) => path.endsWith('.md'));

interface Line {
  readonly number: number;
  readonly text: string;
}

/** The lines of a Markdown text outside fenced code blocks, numbered from 1. */
function proseLines(markdown: string): Line[] {
  const lines: Line[] = [];
  let fence: string | undefined;
  markdown.split('\n').forEach((text, index) => {
    const opener = /^\s*(`{3,}|~{3,})/.exec(text)?.[1];
    if (fence === undefined && opener !== undefined) fence = opener;
    else if (fence !== undefined && opener !== undefined && opener[0] === fence[0] && opener.length >= fence.length) fence = undefined;
    else if (fence === undefined) lines.push({ number: index + 1, text });
  });
  return lines;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/`/g, '')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a Markdown text's headings, with GitHub's -1, -2 suffixes for repeats. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text } of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Link targets of one line: inline links and images, and reference definitions; code spans are not links. */
function linkTargets(text: string): string[] {
  const prose = text.replace(/`+[^`]*`+/g, '');
  const targets = [...prose.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(prose)?.[1];
  return definition === undefined ? targets : [...targets, definition];
}

/** What is wrong with the relative links of one Markdown file (at `file`, for resolving). */
function brokenLinks(file: string, markdown: string): string[] {
  const problems: string[] = [];
  for (const { number, text } of proseLines(markdown)) {
    for (const target of linkTargets(text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:: not ours to check
      const [path = '', anchor] = target.split('#', 2);
      const where = `${relative(root, file)}:${number}: ${target}`;
      if (path === '') {
        if (anchor !== undefined && !anchorsOf(markdown).has(anchor)) problems.push(`${where}: no heading with that anchor`);
        continue;
      }
      const resolved = resolve(dirname(file), decodeURIComponent(path));
      if (relative(root, resolved).startsWith('..')) problems.push(`${where}: leads out of the repository`);
      else if (!existsSync(resolved)) problems.push(`${where}: no such file in the repository`);
      else if (anchor !== undefined && resolved.endsWith('.md') && !anchorsOf(readFileSync(resolved, 'utf8')).has(anchor)) {
        problems.push(`${where}: no heading with that anchor`);
      }
    }
  }
  return problems;
}

/** Paths into the repository's own folders that the prose names (e.g. test/functional/nginx.test.ts). */
const REPOSITORY_PATH =
  /(?<![\w./@-])((?:docs|src|test|bench|examples|scripts|machines|diagrams)\/[\w./-]*\.(?:md|ts|mjs|js|json|lua|conf|png|socket|service))\b/g;

/** Repository paths named in one Markdown file that do not exist. */
function missingPaths(file: string, markdown: string): string[] {
  const problems: string[] = [];
  for (const { number, text } of proseLines(markdown)) {
    for (const [, path] of text.matchAll(REPOSITORY_PATH)) {
      if (!existsSync(join(root, path!))) problems.push(`${relative(root, file)}:${number}: ${path} does not exist`);
    }
  }
  return problems;
}

/** The cells of a table row, as GitHub counts them: split on every `|` not escaped, code spans included. */
function cellCount(row: string): number {
  const inner = row
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '');
  return inner.split(/(?<!\\)\|/).length;
}

const DELIMITER_ROW = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

/** Table rows whose number of cells is not their header's. A table runs until a blank line. */
function ragged(file: string, markdown: string): string[] {
  const problems: string[] = [];
  const lines = proseLines(markdown);
  for (let i = 0; i + 1 < lines.length; i++) {
    const [header, delimiter] = [lines[i]!, lines[i + 1]!];
    if (!header.text.includes('|') || !DELIMITER_ROW.test(delimiter.text) || delimiter.number !== header.number + 1) continue;
    const cells = cellCount(header.text);
    let j = i + 1;
    for (; j < lines.length && lines[j]!.number === header.number + (j - i) && lines[j]!.text.trim() !== ''; j++) {
      const row = lines[j]!;
      if (/^\s*(#|>)/.test(row.text)) break;
      const count = cellCount(row.text);
      if (count !== cells) {
        problems.push(`${relative(root, file)}:${row.number}: ${count} cells, its header has ${cells}: ${row.text.slice(0, 80)}`);
      }
    }
    i = j - 1;
  }
  return problems;
}

/** Code blocks marked `<!-- file: PATH -->` that differ from PATH (or whose PATH is missing). */
function staleEmbeds(file: string, markdown: string): string[] {
  const problems: string[] = [];
  for (const match of markdown.matchAll(/<!-- file: (\S+) -->\s*\n(`{3,}|~{3,})[^\n]*\n([\s\S]*?)\n\2/g)) {
    const [, path, , shown] = match;
    const where = `${relative(root, file)}: the block marked ${path}`;
    const source = join(root, path!);
    if (!existsSync(source)) problems.push(`${where}: no such file`);
    else if (readFileSync(source, 'utf8').trimEnd() !== shown!.trimEnd())
      problems.push(`${where} differs from the file: copy the file into it`);
  }
  return problems;
}

/**
 * Words that point a reader at material outside the repository, which users do not have. Built
 * from pieces so that this file does not match itself.
 */
const PRIVATE_REFERENCE = new RegExp(
  [
    '\\.\\./' + 'shared',
    'research[ _-]?notes?',
    '\\bresearch/',
    'DESIGN' + '\\.md',
    '\\bwaitress-(?!serve\\b)[\\w-]+\\.md',
    // The work items the code came from: a reader has neither the tracker nor the brief.
    '\\b' + 'issues? #?\\d+',
    '\\bthe ' + 'brief\\b',
  ].join('|'),
  'i',
);

function privateReferences(file: string, text: string): string[] {
  return text
    .split('\n')
    .flatMap((line, index) => (PRIVATE_REFERENCE.test(line) ? [`${relative(root, file)}:${index + 1}: ${line.trim().slice(0, 100)}`] : []));
}

const read = (file: string) => readFileSync(file, 'utf8');

describe('Markdown in the repository', () => {
  test('has Markdown to check (docs/ and the README at least)', () => {
    const names = markdownFiles.map((f) => relative(root, f));
    expect(names).toContain('README.md');
    expect(names).toContain('docs/usage.md');
  });

  test('relative links lead to files (and headings) that exist in the repository', () => {
    expect(markdownFiles.flatMap((f) => brokenLinks(f, read(f)))).toEqual([]);
  });

  test('repository paths named in the prose exist', () => {
    expect(markdownFiles.flatMap((f) => missingPaths(f, read(f)))).toEqual([]);
  });

  test('every table row has as many cells as its header', () => {
    expect(markdownFiles.flatMap((f) => ragged(f, read(f)))).toEqual([]);
  });

  test('code blocks marked <!-- file: PATH --> show PATH as it is', () => {
    expect(markdownFiles.flatMap((f) => staleEmbeds(f, read(f)))).toEqual([]);
  });
});

describe('docs and code point only at what users have', () => {
  const self = fileURLToPath(import.meta.url);
  const sources = [
    ...markdownFiles,
    ...['src', 'machines', 'scripts', 'examples', 'bench', 'test', '.ci'].flatMap((dir) =>
      walk(join(root, dir), (path) => path !== self && /\.(ts|mjs|js|md|lua|conf|service|socket|sh|py)$|\/run$|Dockerfile$/.test(path)),
    ),
  ];

  test('no mention of research notes, design notes, ../shared, issue numbers or the brief', () => {
    expect(sources.flatMap((f) => privateReferences(f, read(f)))).toEqual([]);
  });
});

describe('the checks find what they look for', () => {
  const here = join(root, 'docs', 'example.md');

  test('a link to a missing file, out of the repository, or to a missing heading', () => {
    const page = '# Title\n\n[a](usage.md) [b](nothing.md) [c](../../elsewhere.md) [d](#title) [e](#nope) [f](https://example.com/x)\n';
    expect(brokenLinks(here, page)).toEqual([
      'docs/example.md:3: nothing.md: no such file in the repository',
      'docs/example.md:3: ../../elsewhere.md: leads out of the repository',
      'docs/example.md:3: #nope: no heading with that anchor',
    ]);
    expect(brokenLinks(here, '```\n[x](nothing.md)\n```\n`[y](nothing.md)`\n')).toEqual([]);
  });

  test('anchors as GitHub makes them', () => {
    expect([...anchorsOf('## Coming from @hono/node-server\n## Time: slow clients, and `more`\n## A\n## A\n')]).toEqual([
      'coming-from-hononode-server',
      'time-slow-clients-and-more',
      'a',
      'a-1',
    ]);
  });

  test('a repository path that does not exist', () => {
    expect(missingPaths(here, 'see test/functional/nginx.test.ts and test/functional/gone.test.ts, not dist/src/cli/x.js\n')).toEqual([
      'docs/example.md:1: test/functional/gone.test.ts does not exist',
    ]);
  });

  test('a row with a cell too many, a paragraph run into a table, an escaped pipe', () => {
    const page = [
      '| a | b |',
      '|---|---:|',
      '| 1 | 2 |',
      '| `x \\| y` | 2 |',
      '| 1 | 2 | 3 |',
      'a paragraph with no blank line before it',
      '',
      'a | b',
      '--|--',
      'c | d',
    ].join('\n');
    expect(ragged(here, page)).toEqual([
      'docs/example.md:5: 3 cells, its header has 2: | 1 | 2 | 3 |',
      'docs/example.md:6: 1 cells, its header has 2: a paragraph with no blank line before it',
    ]);
  });

  test('a marked code block that differs from its file', () => {
    const pkg = read(join(root, 'package.json'));
    expect(staleEmbeds(here, `<!-- file: package.json -->\n\`\`\`json\n${pkg}\`\`\`\n`)).toEqual([]);
    expect(staleEmbeds(here, '<!-- file: package.json -->\n```json\n{}\n```\n')).toEqual([
      'docs/example.md: the block marked package.json differs from the file: copy the file into it',
    ]);
  });

  test('a pointer at private notes', () => {
    const text = [
      'see the ' + 'research notes',
      'in ../' + 'shared/x.md',
      'per waitress-' + 'notes.md',
      'waitress-serve is fine',
      'as issue ' + '#12 asks',
      'The ' + 'brief asks for it',
      'a PKCS#12 bundle is fine',
    ].join('\n');
    expect(privateReferences(here, text).map((line) => line.split(':')[1])).toEqual(['1', '2', '3', '5', '6']);
  });
});
