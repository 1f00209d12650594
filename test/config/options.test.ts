// resolveOptions: one converter for values written as text, messages in the caller's spelling,
// and a suggestion for an unknown name.
import { describe, expect, it } from 'vitest';
import { LIBRARY_SPELLING, resolveOptions, type Spelling } from '../../src/config/options.js';
import { serve } from '../../src/index.js';

const CLI: Spelling = { style: 'cli' };

describe('values written as text', () => {
  it.each([
    ['yes', true],
    ['On', true],
    ['1', true],
    ['true', true],
    ['no', false],
    ['off', false],
    ['0', false],
    ['FALSE', false],
  ])('a boolean reads %j as %s', (text, value) => {
    expect(resolveOptions({ exposeTracebacks: text }).exposeTracebacks).toBe(value);
  });
  it('an integer reads "8080", a list a space- or line-separated string, inspect a port or a switch', () => {
    const settings = resolveOptions({ port: ' 8080 ', trustedProxy: '*', trustedProxyHeaders: 'x-forwarded-for\n x-forwarded-proto' });
    expect(settings.port).toBe(8080);
    expect(settings.trustedProxyHeaders).toEqual(['x-forwarded-for', 'x-forwarded-proto']);
    expect(resolveOptions({ inspect: '5679' }).inspect).toBe(5679);
    expect(resolveOptions({ inspect: 'yes' }).inspect).toBe(5678);
    expect(resolveOptions({ inspect: 'off' }).inspect).toBe(false);
  });
  it('refuses what does not convert, saying what is accepted', () => {
    expect(() => resolveOptions({ ipv4: 'maybe' })).toThrow(/^ipv4: must be true or false, yes or no, on or off, 1 or 0 \(got "maybe"\)$/);
    expect(() => resolveOptions({ port: '80a' })).toThrow(/^port: must be an integer \(got "80a"\)$/);
  });
});

describe('messages in the caller’s spelling', () => {
  it('the library: camelCase names, in errors and warnings', () => {
    expect(() => resolveOptions({ listen: '127.0.0.1:0', port: 1 }, LIBRARY_SPELLING)).toThrow(/^listen: cannot be combined with port$/);
    expect(() => resolveOptions({ trustedProxyCount: 2 })).toThrow(/^trustedProxyCount: has no meaning without trustedProxy$/);
    const { warnings } = resolveOptions({ recvBytes: 10, trustedProxy: '127.0.0.1' });
    expect(warnings[0]).toMatch(/^waitstate: recvBytes is accepted for Waitress configs only/);
    expect(warnings[1]).toMatch(/^waitstate: trustedProxy is set without trustedProxyHeaders:/);
  });
  it('the command line: flags, in errors and warnings, the table’s references too', () => {
    expect(() => resolveOptions({ listen: '127.0.0.1:0', host: 'a', port: 1 }, CLI)).toThrow(
      /^--listen: cannot be combined with --host or --port$/,
    );
    expect(() => resolveOptions({ trustedProxyCount: 2 }, CLI)).toThrow(/^--trusted-proxy-count: has no meaning without --trusted-proxy$/);
    expect(() => resolveOptions({ ipv4: false, ipv6: false }, CLI)).toThrow(/^--ipv4: and --ipv6 cannot both be off$/);
    expect(() => resolveOptions({ inspect: true, processes: 2 }, CLI)).toThrow(/^--inspect: cannot be combined with --processes/);
    const { warnings } = resolveOptions({ recvBytes: 10, asyncoreLoopTimeout: 1, trustedProxy: '127.0.0.1' }, CLI);
    expect(warnings[0]).toMatch(/^waitstate: --recv-bytes is accepted for Waitress configs only/);
    expect(warnings[1]).toMatch(/^waitstate: --asyncore-loop-timeout is accepted .* every --cleanup-interval seconds$/);
    expect(warnings[2]).toMatch(/^waitstate: --trusted-proxy is set without --trusted-proxy-headers:/);
  });
  it('the command line does not offer what only the library takes', () => {
    expect(() => resolveOptions({ inspect: 'abc' }, CLI)).toThrow(/^--inspect: must be a port, true or false \(got "abc"\)$/);
    expect(() => resolveOptions({ inspect: 'abc' })).toThrow(/^inspect: must be a port, true, false or a function/);
    expect(() => resolveOptions({ sockets: 'abc' }, CLI)).toThrow(/^--sockets: "abc" is not a file descriptor$/);
  });
});

describe('an unknown option name given to the library', () => {
  it.each([
    [{ maxRequestBodysize: 1 }, /^maxRequestBodysize: is not an option of waitstate; did you mean maxRequestBodySize\?$/],
    [{ max_request_body_size: 1 }, /^max_request_body_size: is not an option of waitstate; did you mean maxRequestBodySize\?$/],
    [{ loger: console }, /did you mean logger\?$/],
    [{ bogus: 1 }, /^bogus: is not an option of waitstate$/],
    [{ toString: 1 }, /^toString: is not an option of waitstate$/],
  ])('%j is refused with a suggestion when one is near', async (options, message) => {
    expect(() => resolveOptions(options)).toThrow(message);
    await expect(serve(() => new Response('x'), options as never)).rejects.toThrow(message);
  });
});
