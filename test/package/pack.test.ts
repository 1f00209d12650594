// test/package/pack.test.ts: what `npm pack` puts in the tarball and what package.json promises an
// installer: the built code, its types, the three bins, LICENSE and README, and no dead weight
// (source maps without their sources, the doc generators only scripts/ run); the optional peer
// stays out of dependencies, ws is one of them (it frames WebSockets), and installing runs no script.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  license?: string;
  repository?: { url?: string };
  bin: Record<string, string>;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
};
/** Loaded only by what needs them: --inspect, and the waitstate/hono entry. */
const OPTIONAL_PEERS = ['@statelyai/inspect', 'hono'];

/** The files `npm pack` would put in the tarball, from the build `npm test` made (no prepack here). */
function packedFiles(): string[] {
  const result = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  const [report] = JSON.parse(result.stdout) as { files: { path: string }[] }[];
  return report!.files.map((file) => file.path);
}

describe('the tarball', () => {
  const files = packedFiles();

  it('holds the entry point, its types, the bins, LICENSE and README', () => {
    const bins = Object.values(pkg.bin).map((path) => path.replace(/^\.\//, ''));
    expect(bins).toHaveLength(3);
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'dist/src/index.js', 'dist/src/index.d.ts', ...bins]));
  });

  it('holds what its documents link to: a relative link in a shipped .md file leads to a shipped file', () => {
    const shipped = new Set(files);
    const broken: string[] = [];
    for (const doc of files.filter((path) => path.endsWith('.md'))) {
      for (const [, target] of readFileSync(`${root}${doc}`, 'utf8').matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/i.test(target!)) continue;
        const path = posix.normalize(posix.join(posix.dirname(doc), target!)).replace(/\/$/, '');
        if (!shipped.has(path) && !files.some((file) => file.startsWith(`${path}/`))) broken.push(`${doc} → ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('holds no source map and none of the doc generators', () => {
    expect(files.filter((path) => path.endsWith('.map'))).toEqual([]);
    expect(files.filter((path) => /options-doc|catalogue-doc|audit\/app\./.test(path))).toEqual([]);
  });
});

describe('package.json', () => {
  it('names its licence and repository', () => {
    expect(pkg.license).toBe('MIT');
    expect(pkg.repository?.url).toMatch(/^git\+https:\/\/github\.com\/.+\.git$/);
    expect(readFileSync(`${root}LICENSE`, 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} /);
  });

  it('makes the inspector package and hono optional peers, installed for the tests only', () => {
    for (const name of OPTIONAL_PEERS) {
      expect(pkg.dependencies).not.toHaveProperty([name]);
      expect(pkg.peerDependencies).toHaveProperty([name]);
      expect(pkg.peerDependenciesMeta?.[name]?.optional).toBe(true);
      expect(pkg.devDependencies).toHaveProperty([name]);
    }
  });

  it('depends on ws, small and without dependencies of its own, for WebSockets', () => {
    expect(pkg.dependencies['ws']).toMatch(/^\^8\./);
    expect(pkg.devDependencies).not.toHaveProperty(['ws']);
    expect(pkg.peerDependencies).not.toHaveProperty(['ws']);
  });

  it('builds when packing, not when installing; the first commands of the README build first', () => {
    expect(pkg.scripts).not.toHaveProperty('prepare');
    expect(pkg.scripts['prepack']).toBe('npm run build');
    expect(pkg.scripts['serve:hello']).toMatch(/^npm run build && /);
    expect(pkg.scripts['test']).toMatch(/^npm run build && /);
  });
});
