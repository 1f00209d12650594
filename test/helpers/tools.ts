// test/helpers/tools.ts: the system tools (Debian packages) some tests drive, how to find them,
// and which test files skip without them. The test files skip themselves; vitest's global setup
// (test/helpers/announce-skips.ts) says which will, and why, before any test runs.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** A program a test drives, where Debian installs it, and its package. */
export interface SystemTool {
  readonly name: string;
  readonly places: readonly string[];
  readonly apt: string;
}

export const NGINX: SystemTool = { name: 'nginx', places: ['/usr/sbin/nginx'], apt: 'nginx' };
export const OPENSSL: SystemTool = { name: 'openssl', places: ['/usr/bin/openssl'], apt: 'openssl' };
export const CURL: SystemTool = { name: 'curl', places: ['/usr/bin/curl'], apt: 'curl' };
export const CHROMIUM: SystemTool = { name: 'chromium', places: ['/usr/bin/chromium', '/usr/bin/chromium-browser'], apt: 'chromium' };

/** The test files that skip (some of) their tests when a tool is missing, and the tools each needs. */
export const TESTS_NEEDING_TOOLS: Readonly<Record<string, readonly SystemTool[]>> = {
  'test/functional/nginx.test.ts': [NGINX, OPENSSL],
  'test/functional/tls.test.ts': [OPENSSL, CURL],
  'test/functional/trace.test.ts': [CHROMIUM],
};

const found = new Map<string, string | undefined>();

/** The first of the tool's places that exists, else what `which` says; undefined when it is not installed. */
export function findTool(tool: SystemTool): string | undefined {
  if (found.has(tool.name)) return found.get(tool.name);
  let path = tool.places.find((place) => existsSync(place));
  if (path === undefined) {
    try {
      path = execFileSync('which', [tool.name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
    } catch {
      path = undefined;
    }
  }
  found.set(tool.name, path);
  return path;
}

/** The tools of `tools` that are not installed. */
export const missingTools = (tools: readonly SystemTool[]): SystemTool[] => tools.filter((tool) => findTool(tool) === undefined);

const installHint = (tools: readonly SystemTool[]) => `apt-get install -y ${tools.map((tool) => tool.apt).join(' ')}`;

/**
 * A describe title that says why its tests are skipped: `title`, or, when some of `tools` are
 * missing, `title: SKIPPED, nginx and openssl not installed (apt-get install -y …; .ci/run does)`.
 */
export function titleSayingWhy(title: string, tools: readonly SystemTool[]): string {
  const missing = missingTools(tools);
  if (missing.length === 0) return title;
  return `${title}: SKIPPED, ${missing.map((tool) => tool.name).join(' and ')} not installed (${installHint(missing)}; .ci/run does)`;
}

/** One line per missing tool and test file: what is missing, how to install it, what is skipped. */
export function skipWarnings(needs: Readonly<Record<string, readonly SystemTool[]>> = TESTS_NEEDING_TOOLS): string[] {
  return Object.entries(needs).flatMap(([file, tools]) =>
    missingTools(tools).map((tool) => `waitstate tests: ${tool.name} not found (${installHint([tool])}): ${file} will be skipped`),
  );
}
