// test/http/date.test.ts: httpDate(), IMF-fixdate (RFC 9110 §5.6.7) with a per-second cache.
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { httpDate } from '../../src/http/date.js';

const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/;

describe('RFC 9110 §5.6.7 IMF-fixdate', () => {
  test("the RFC's own example", () => {
    expect(httpDate(784111777000)).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
  });
  test('milliseconds are truncated, not rounded', () => {
    expect(httpDate(784111777999)).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
    expect(httpDate(784111778000)).toBe('Sun, 06 Nov 1994 08:49:38 GMT');
  });
  test('the cache follows the clock both ways', () => {
    expect(httpDate(0)).toBe('Thu, 01 Jan 1970 00:00:00 GMT');
    expect(httpDate(951782400000)).toBe('Tue, 29 Feb 2000 00:00:00 GMT');
    expect(httpDate(951782399500)).toBe('Mon, 28 Feb 2000 23:59:59 GMT');
    expect(httpDate(951782400000)).toBe('Tue, 29 Feb 2000 00:00:00 GMT');
  });
  test.prop([fc.integer({ min: 0, max: 253402300799999 })], { numRuns: 500 })(
    'any time in years 1970-9999 has the fixdate shape and agrees with Date',
    (ms) => {
      const s = httpDate(ms);
      expect(s).toMatch(IMF_FIXDATE);
      expect(Date.parse(s)).toBe(Math.floor(ms / 1000) * 1000);
    },
  );
});
