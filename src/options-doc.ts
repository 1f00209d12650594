// src/options-doc.ts: docs/options.md, rendered from the options table (src/options.ts).
// `npm run docs:options` writes it; test/cli/options-doc.test.ts fails when it is stale.

import { flagOf, OPTIONS, snakeOf } from './options.js';

const cell = (text: string) => text.replace(/\|/g, '\\|');

function shownDefault(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? '' : `\`${value.join(' ')}\``;
  if (value === '') return '""';
  return `\`${String(value)}\``;
}

export function renderOptionsDoc(): string {
  const lines = [
    '# Options',
    '',
    '<!-- Generated from src/options.ts by `npm run docs:options`; test/cli/options-doc.test.ts checks it. -->',
    '',
    'Every option has three spellings: camelCase in the library (`serve(app, { maxRequestBodySize: 1024 })`),',
    'kebab-case on the command line (`--max-request-body-size=1024`; booleans as `--name` / `--no-name`),',
    'and snake_case, as Waitress spells it, in a JSON config file (`waitstate-serve --config=FILE`; flags',
    'win over the file). A bad value, an unknown name or a combination Waitress refuses (`listen` with',
    '`host`/`port`, `unix_socket` or `sockets` with any of them, `ipv4` and `ipv6` both off, `trusted_proxy_count` or',
    '`trusted_proxy_headers` without `trusted_proxy`, `forwarded` with an `x-forwarded-*` header) fails at',
    'start-up with an error naming the option; the CLI prints it in one line, with flag names, and exits 1.',
    '',
    '## Waitress options',
    '',
    '| option | CLI flag | config key | type | default | meaning |',
    '|---|---|---|---|---|---|',
  ];
  const row = (name: string) => {
    const spec = OPTIONS[name as keyof typeof OPTIONS];
    const help =
      'ignored' in spec && spec.ignored !== undefined
        ? `${spec.help} **No effect on Node** (a warning says so): ${spec.ignored}.`
        : spec.help;
    return `| \`${name}\` | \`${flagOf(name)}\` | \`${snakeOf(name)}\` | ${spec.kind} | ${shownDefault(spec.default)} | ${cell(help)} |`;
  };
  const names = Object.keys(OPTIONS);
  const own = (name: string) => 'own' in OPTIONS[name as keyof typeof OPTIONS];
  for (const name of names.filter((n) => !own(n))) lines.push(row(name));
  lines.push('', "## waitstate's own", '', '| option | CLI flag | config key | type | default | meaning |', '|---|---|---|---|---|---|');
  for (const name of names.filter(own)) lines.push(row(name));
  lines.push(
    '',
    'Not options: `logger` (library only: any object with `error`, `warn` and `info`, such as `console`',
    'or a pino logger) and, on the command line, `--config=FILE` and `--help`. `waitstate-serve` runs',
    '4 worker threads unless `--threads` says otherwise, like `waitress-serve`.',
    '',
  );
  return lines.join('\n');
}
