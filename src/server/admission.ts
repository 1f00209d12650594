// src/server/admission.ts: connection_limit, kept for one server: whether a new connection
// becomes a channel now, waits unread, or is closed, and which channel is shed to make room.
//
// connection_limit (Ranch's conns_sup, Waitress's readable()). At the limit, the oldest
// connection that has not sent a whole head is shed to make room (a slow or idle client must
// not keep a new one out); its channel decides how (408, or a silent close when it sent
// nothing) and stops counting at once, though its close may take a moment. When none can be
// shed, a new connection is not taken as a channel: it waits, unread, until one closes, like a
// connection in the kernel's backlog. At most `backlog` wait; more are closed.

import type { Socket } from 'node:net';
import type { Channel } from '../connection/channel.js';
import type { ResolvedOptions } from '../config/options.js';

/** After a scan at connection_limit found no connection to shed, the next scan waits this long. */
const SHED_RESCAN_MS = 100;

export class Admission {
  /** The server's live channels, in accept order; the server adds and removes them. */
  readonly #channels: ReadonlySet<Channel>;
  readonly #settings: Pick<ResolvedOptions, 'connectionLimit' | 'backlog' | 'logger'>;
  /** Make `socket` a channel of the server. */
  readonly #admit: (socket: Socket) => void;
  /** Connections admitted that are not channels yet (a TLS handshake under way): they count too. */
  readonly #pending: () => number;
  /** Connections waiting, unread, for room; the first came first. */
  readonly #waiting: Socket[] = [];
  /** Channels shed at the limit and still closing: they no longer count against it. */
  readonly #shedding = new Set<Channel>();
  /** A scan that found nothing to shed is not repeated for every connection of a burst. */
  #nothingToShedUntil = 0;

  constructor(
    channels: ReadonlySet<Channel>,
    settings: Pick<ResolvedOptions, 'connectionLimit' | 'backlog' | 'logger'>,
    admit: (socket: Socket) => void,
    pending: () => number = () => 0,
  ) {
    this.#channels = channels;
    this.#settings = settings;
    this.#admit = admit;
    this.#pending = pending;
  }

  /** The connections that count against connection_limit: channels, and connections on their way to becoming one. */
  counted(): number {
    return this.#channels.size - this.#shedding.size + this.#pending();
  }

  /** Shed the oldest channel still waiting for a whole head; false when there is none. */
  shedOldest(): boolean {
    const now = Date.now();
    if (now < this.#nothingToShedUntil) return false;
    // A Set iterates in insertion order: the first match is the oldest connection.
    for (const channel of this.#channels) {
      if (this.#shedding.has(channel) || !channel.awaitingHead) continue;
      this.#shedding.add(channel);
      channel.shed();
      return true;
    }
    this.#nothingToShedUntil = now + SHED_RESCAN_MS;
    return false;
  }

  /** A new connection: admitted (shedding one to make room if need be), left waiting, or closed. */
  offer(socket: Socket): void {
    const { connectionLimit, backlog, logger } = this.#settings;
    if (this.counted() < connectionLimit || (this.#waiting.length === 0 && this.shedOldest())) {
      this.#admit(socket);
      return;
    }
    if (this.#waiting.length >= backlog) {
      socket.destroy();
      return;
    }
    if (this.#waiting.length === 0) {
      logger.warn(`waitstate: connection_limit (${connectionLimit}) reached and no connection can be shed; new connections wait`);
    }
    this.#waiting.push(socket);
    socket.on('error', () => {}); // a reset while waiting is not worth a crash
    socket.once('close', () => {
      const at = this.#waiting.indexOf(socket);
      if (at !== -1) this.#waiting.splice(at, 1);
    });
  }

  /** Room came (a channel closed), or may have (busy channels went idle): let waiting connections in. */
  admitWaiting(): void {
    while (this.#waiting.length > 0) {
      if (this.#waiting[0]!.destroyed) {
        this.#waiting.shift();
        continue;
      }
      if (this.counted() >= this.#settings.connectionLimit && !this.shedOldest()) return;
      this.#admit(this.#waiting.shift()!);
    }
  }

  /** A channel closed: if it was shed, it is no longer remembered as closing. */
  forget(channel: Channel): void {
    this.#shedding.delete(channel);
  }

  /** The server is closing: connections still waiting are closed unserved. */
  closeWaiting(): void {
    for (const socket of this.#waiting.splice(0)) socket.destroy();
  }
}
