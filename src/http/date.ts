// src/http/date.ts: the Date field value, IMF-fixdate (RFC 9110 §5.6.7), cached per second.
// Rules: (1) no clock here: the caller passes the time, so tests need no fake timers;
//        (2) the one-entry cache is the only module state in src/http/; it holds a pure function's
//        last answer, so sharing it between connections is harmless.
// Why cache: every response carries Date, and formatting costs a Date allocation plus string
// building; within one second the answer does not change.

let cachedSecond = Number.NaN;
let cachedValue = '';

/**
 * RFC 9110 §5.6.7  IMF-fixdate = day-name "," SP date1 SP time-of-day SP GMT
 * e.g. "Sun, 06 Nov 1994 08:49:37 GMT". `nowMs` is milliseconds since the epoch (Date.now()).
 */
export function httpDate(nowMs: number): string {
  const second = Math.floor(nowMs / 1000);
  if (second !== cachedSecond) {
    // ECMA-262 specifies Date.prototype.toUTCString as exactly this layout
    // ("Www, DD Mmm YYYY HH:mm:ss GMT") for years 0000-9999.
    cachedValue = new Date(second * 1000).toUTCString();
    cachedSecond = second;
  }
  return cachedValue;
}
