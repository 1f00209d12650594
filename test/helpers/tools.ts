// test/helpers/tools.ts: find a system tool (a Debian package) a test drives, or undefined.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The first of `places` that exists, else what `which name` says. */
export function findTool(name: string, places: string[]): string | undefined {
  const found = places.find((path) => existsSync(path));
  if (found !== undefined) return found;
  try {
    return execFileSync('which', [name], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}
