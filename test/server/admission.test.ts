// test/server/admission.test.ts: connection_limit's decisions on their own, with stand-in channels
// and sockets: who is shed (the oldest without a whole head), who waits (at most backlog), who is
// let in when room comes. test/functional/limits.test.ts checks the same over real sockets.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Channel } from '../../src/connection/channel.js';
import { Admission } from '../../src/server/admission.js';
import { FakeSocket } from '../helpers/fake-socket.js';
import { recordingLogger } from '../helpers/raw-client.js';

/** A channel as admission sees it: whether it has a whole head yet, and whether it was shed. */
class StandInChannel {
  shedCount = 0;
  constructor(public awaitingHead: boolean) {}
  shed(): void {
    this.shedCount++;
  }
}

function setUp(connectionLimit: number, backlog: number) {
  const channels = new Set<Channel>();
  const admitted: FakeSocket[] = [];
  const log = recordingLogger();
  // As the server does, an admitted connection becomes a channel (here one that has sent a head).
  const admission = new Admission(channels, { connectionLimit, backlog, logger: log }, (socket) => {
    admitted.push(socket as unknown as FakeSocket);
    channels.add(new StandInChannel(false) as unknown as Channel);
  });
  const addChannel = (awaitingHead: boolean): StandInChannel => {
    const channel = new StandInChannel(awaitingHead);
    channels.add(channel as unknown as Channel);
    return channel;
  };
  const connect = (): FakeSocket => {
    const socket = new FakeSocket();
    admission.offer(socket.asSocket());
    return socket;
  };
  return { channels, admitted, log, admission, addChannel, connect };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Admission', () => {
  it('admits at once below the limit', () => {
    const { admitted, addChannel, connect } = setUp(2, 4);
    addChannel(false);
    const socket = connect();
    expect(admitted).toEqual([socket]);
  });

  it('at the limit sheds the oldest channel without a whole head, which stops counting at once', () => {
    const { admitted, admission, addChannel, connect } = setUp(3, 4);
    const busy = addChannel(false);
    const oldestIdle = addChannel(true);
    const newerIdle = addChannel(true);
    const socket = connect();
    expect(admitted).toEqual([socket]);
    expect([busy.shedCount, oldestIdle.shedCount, newerIdle.shedCount]).toEqual([0, 1, 0]);
    expect(admission.counted()).toBe(3);
    // A channel already shed is not shed again: the next one is.
    expect(admission.shedOldest()).toBe(true);
    expect([oldestIdle.shedCount, newerIdle.shedCount]).toEqual([1, 1]);
  });

  it('when none can be shed, connections wait (with one warning) up to backlog; more are closed', () => {
    const { admitted, log, addChannel, connect } = setUp(1, 2);
    addChannel(false);
    const first = connect();
    const second = connect();
    const third = connect();
    expect(admitted).toEqual([]);
    expect([first.destroyed, second.destroyed, third.destroyed]).toEqual([false, false, true]);
    expect(log.lines.filter((line) => line.includes('connection_limit (1) reached and no connection can be shed'))).toHaveLength(1);
  });

  it('lets waiting connections in, first come first, as room comes; a closed one is skipped', () => {
    const { channels, admitted, admission, addChannel, connect } = setUp(1, 4);
    const busy = addChannel(false);
    const gone = connect();
    const first = connect();
    const second = connect();
    gone.destroy();
    channels.delete(busy as unknown as Channel);
    admission.admitWaiting();
    expect(admitted).toEqual([first]);
    channels.clear();
    admission.admitWaiting();
    expect(admitted).toEqual([first, second]);
  });

  it('a connection that closes while waiting leaves the queue', async () => {
    const { channels, admitted, admission, addChannel, connect } = setUp(1, 1);
    addChannel(false);
    const leaving = connect();
    leaving.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    const next = connect(); // room in the backlog again
    expect(next.destroyed).toBe(false);
    channels.clear();
    admission.admitWaiting();
    expect(admitted).toEqual([next]);
  });

  it('after a scan finds nothing to shed, none is made for SHED_RESCAN_MS (100 ms)', () => {
    vi.useFakeTimers();
    const { admission, addChannel } = setUp(1, 4);
    const channel = addChannel(false);
    expect(admission.shedOldest()).toBe(false);
    channel.awaitingHead = true;
    vi.advanceTimersByTime(99);
    expect(admission.shedOldest()).toBe(false);
    vi.advanceTimersByTime(1);
    expect(admission.shedOldest()).toBe(true);
  });

  it('a shed channel that closes is forgotten, and closeWaiting closes the waiting connections', () => {
    const { channels, admission, addChannel, connect } = setUp(1, 4);
    const idle = addChannel(true);
    connect(); // sheds idle
    expect(admission.counted()).toBe(1);
    channels.delete(idle as unknown as Channel);
    admission.forget(idle as unknown as Channel);
    expect(admission.counted()).toBe(1);
    const waiting = connect();
    expect(waiting.destroyed).toBe(false);
    admission.closeWaiting();
    expect(waiting.destroyed).toBe(true);
  });
});
