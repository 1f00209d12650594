// The inspect option: the machines of one request (channel, parser, task) seen as xstate
// inspection events, given to a function, or through Stately's WebSocket inspector to any
// WebSocket client of the loopback relay.
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { InspectionEvent } from 'xstate';
import { resolveOptions } from '../../src/config/options.js';
import { OptionError } from '../../src/errors.js';
import { exchange, startServer } from '../helpers/raw-client.js';
import { until } from '../helpers/wait.js';

const hello = () => new Response('hi');
const get = 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';

/** Machine ids of the actors that reported `type` events. */
const machinesOf = (events: { type: string; actorRef?: unknown }[], type: string, idOf: (e: never) => string | undefined) =>
  [...new Set(events.filter((e) => e.type === type).map((e) => idOf(e as never)))].sort();

describe('inspect', () => {
  it('gives a function the actor, event and snapshot events of one request', async () => {
    const events: InspectionEvent[] = [];
    const t = await startServer(hello, { inspect: (event) => void events.push(event) });
    expect((await exchange(t.port, get)).status).toBe(200);
    await t.close();
    const idOf = (e: InspectionEvent) => (e.actorRef as { logic?: { id?: string } }).logic?.id;
    expect(machinesOf(events, '@xstate.actor', idOf)).toEqual(expect.arrayContaining(['channel', 'parser', 'task', 'supervisor']));
    expect(machinesOf(events, '@xstate.snapshot', idOf)).toEqual(expect.arrayContaining(['channel', 'parser', 'task']));
    const received = events.filter((e) => e.type === '@xstate.event').map((e) => (e as { event: { type: string } }).event.type);
    expect(received).toEqual(expect.arrayContaining(['socket.data', 'head.parsed', 'request.complete', 'task.start', 'task.done']));
  });

  it("streams them through Stately's WebSocket inspector to a client of the relay", async () => {
    const t = await startServer(hello, { inspect: 0 });
    const url = t.server.inspector!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const page = await fetch(url);
    expect(await page.text()).toContain('https://stately.ai/inspect');
    const messages: { type: string; event?: { type: string }; snapshot?: { value?: unknown } }[] = [];
    const client = new WebSocket(url.replace('http', 'ws'));
    client.on('message', (data) => void messages.push(JSON.parse(data.toString()) as (typeof messages)[number]));
    await new Promise((resolve) => client.once('open', resolve));
    expect((await exchange(t.port, get)).status).toBe(200);
    await until(() => messages.some((m) => m.type === '@xstate.event' && m.event?.type === 'task.done'));
    const types = new Set(messages.map((m) => m.type));
    expect([...types].sort()).toEqual(['@xstate.actor', '@xstate.event', '@xstate.snapshot']);
    expect(messages.some((m) => m.type === '@xstate.snapshot' && m.snapshot?.value === 'dispatched')).toBe(true);
    client.close();
    await t.close();
  });

  it('fails start-up naming inspect when its port is taken, leaving nothing open', async () => {
    const first = await startServer(hello, { inspect: 0 });
    const port = Number(new URL(first.server.inspector!).port);
    const log = join(tmpdir(), `waitstate-inspect-${process.pid}.log`);
    await expect(startServer(hello, { inspect: port, accessLog: log })).rejects.toMatchObject({ option: 'inspect' });
    await first.close();
    // The relay of the first server is gone with it: the port can be taken again.
    const again = await startServer(hello, { inspect: port });
    await again.close();
    rmSync(log, { force: true });
  });

  it('runs the machines as xstate actors, and refuses what cannot be inspected', () => {
    expect(resolveOptions({ inspect: 0 }).machineRuntime).toBe('xstate');
    expect(resolveOptions({ inspect: true }).inspect).toBe(5678);
    expect(() => resolveOptions({ inspect: 0, machineRuntime: 'compiled' })).toThrow(OptionError);
    expect(() => resolveOptions({ inspect: 0, processes: 2 })).toThrow(/cannot be combined with processes/);
    expect(() => resolveOptions({ inspect: 'x' })).toThrow(/inspect: must be a port/);
  });
});
