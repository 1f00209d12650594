// docs/options.md is generated from the options table; this fails when it is stale.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderFromWaitressDoc, renderOptionsDoc } from '../../src/config/options-doc.js';
import { camelOf, hasFlag, OPTIONS, snakeOf, type OptionName } from '../../src/config/options.js';

describe('docs/options.md', () => {
  const onDisk = readFileSync(new URL('../../docs/options.md', import.meta.url), 'utf8');
  it('matches the options table (run `npm run docs:options`)', () => {
    expect(onDisk).toBe(renderOptionsDoc());
  });
  it('lists every option under its three names (no flag for an object or a secret)', () => {
    for (const name of Object.keys(OPTIONS) as OptionName[]) {
      expect(onDisk).toContain(hasFlag(name) ? `| \`${name}\` | \`--` : `| \`${name}\` | — |`);
      expect(onDisk).toContain(`\`${snakeOf(name)}\``);
    }
  });
});

describe('docs/from-waitress.md', () => {
  it('matches the options table (run `npm run docs:options`)', () => {
    expect(readFileSync(new URL('../../docs/from-waitress.md', import.meta.url), 'utf8')).toBe(renderFromWaitressDoc());
  });
});

describe('the options table', () => {
  // Adjustments._params of Waitress 2.1.2 (Debian's python3-waitress), which is also HEAD's list.
  const waitress =
    'host port ipv4 ipv6 listen threads trusted_proxy trusted_proxy_count trusted_proxy_headers log_untrusted_proxy_headers ' +
    'clear_untrusted_proxy_headers url_scheme url_prefix backlog recv_bytes send_bytes outbuf_overflow outbuf_high_watermark ' +
    'inbuf_overflow connection_limit cleanup_interval channel_timeout log_socket_errors max_request_header_size ' +
    'max_request_body_size expose_tracebacks ident asyncore_loop_timeout asyncore_use_poll unix_socket unix_socket_perms ' +
    'sockets channel_request_lookahead server_name';
  it.each(waitress.split(' '))('has Waitress option %s, not marked as our own', (snake) => {
    const spec = OPTIONS[camelOf(snake) as keyof typeof OPTIONS] as { own?: true } | undefined;
    expect(spec).toBeDefined();
    expect(spec?.own).toBeUndefined();
  });
});
