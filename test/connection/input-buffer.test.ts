// InputBuffer: appends are amortised O(1), pending bytes are always what was received and not
// consumed, and views handed out earlier are never overwritten.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { InputBuffer } from '../../src/connection/input-buffer.js';

const step = fc.oneof(
  fc.record({ append: fc.uint8Array({ minLength: 1, maxLength: 50 }) }),
  fc.record({ consume: fc.integer({ min: 0, max: 60 }) }),
);

describe('InputBuffer', () => {
  test.prop([fc.array(step, { maxLength: 60 })])('matches a plain byte-array model and never changes a view', (steps) => {
    const input = new InputBuffer();
    let model: number[] = [];
    const views: [Buffer, number[]][] = [];
    for (const s of steps) {
      if ('append' in s) {
        input.append(Buffer.from(s.append));
        model.push(...s.append);
      } else {
        const n = Math.min(s.consume, input.pending);
        const view = input.bytes.subarray(input.start, input.start + n);
        views.push([view, [...view]]);
        input.consume(n);
        model = model.slice(n);
      }
      expect(input.pending).toBe(model.length);
      expect([...input.bytes.subarray(input.start)]).toEqual(model);
      for (const [view, copy] of views) expect([...view]).toEqual(copy);
    }
  });
  it('uses an arriving chunk as it is when nothing is pending (no copy)', () => {
    const input = new InputBuffer();
    const chunk = Buffer.from('GET / HTTP/1.1\r\n\r\n');
    input.append(chunk);
    expect(input.bytes).toBe(chunk);
  });
  it('grows by doubling, so tiny appends do not copy everything each time', () => {
    const input = new InputBuffer();
    input.append(Buffer.from('a'));
    const buffers = new Set<ArrayBufferLike>();
    for (let i = 0; i < 100_000; i++) {
      input.append(Buffer.from('b'));
      buffers.add(input.bytes.buffer);
    }
    expect(input.pending).toBe(100_001);
    expect(buffers.size).toBeLessThan(10);
  });
});
