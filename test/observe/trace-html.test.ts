// The trace page's requests: which request each step served, and what each was answered.
import { describe, expect, it } from 'vitest';
import type { TraceLine } from '../../src/observe/trace.js';
import { renderTraceHtml, traceRequests } from '../../src/observe/trace-html.js';

let t = 0;
const line = (actor: string, from: string, event: string, to: string, more: Partial<TraceLine> = {}): TraceLine => ({
  t: t++,
  connection: 1,
  actor,
  from,
  event,
  to,
  ...more,
});

describe('traceRequests', () => {
  it('names a refused head, a request whose head never came whole, and one not answered yet', () => {
    const steps = [
      line('channel', '(start)', 'xstate.init', 'reading'),
      line('parser', 'head', 'head.parsed', 'complete', { request: 'GET /a' }),
      line('task', '(start)', 'xstate.init', 'queued'),
      line('task', 'running', 'app.responded', 'streaming', { status: 200 }),
      line('channel', 'dispatched', 'task.done', 'reading'),
      line('channel', 'reading', 'deadline.check', 'pending-close', { status: 408 }),
    ];
    expect(traceRequests(steps)).toEqual({ labels: ['GET /a → 200', '(no whole head) → 408'], of: [-1, 0, 0, 0, 0, 1] });
    const refused = [
      line('parser', 'head', 'head.failed', 'error'),
      line('channel', 'reading', 'request.invalid', 'pending-close', { status: 400 }),
    ];
    expect(traceRequests(refused).labels).toEqual(['(bad head) → 400']);
    expect(traceRequests([line('parser', 'head', 'head.parsed', 'complete', { request: 'POST /slow' })]).labels).toEqual([
      'POST /slow → …',
    ]);
  });
});

describe('renderTraceHtml', () => {
  it('escapes what the trace holds: a request-target is the client’s to choose', () => {
    const html = renderTraceHtml([line('parser', 'head', 'head.parsed', 'complete', { request: 'GET /<script>alert(1)</script>' })], 1);
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain('GET /&lt;script&gt;alert(1)&lt;/script&gt; → …');
  });
});
