// src/hono.ts: `waitstate/hono`, Hono's WebSocket helper for waitstate, as hono/deno and hono/bun
// are Hono's for theirs: `upgradeWebSocket(() => ({ onOpen, onMessage, onClose, onError }))` as a
// route handler. It is built with Hono's defineWebSocketHelper over waitstate's upgradeWebSocket()
// (Deno's API), so hono is a peer of this entry only: `import 'waitstate'` never loads it.

import { defineWebSocketHelper, WSContext, type WSEvents, type WSReadyState } from 'hono/ws';
import type { CloseEvent, UpgradedWebSocket } from './websocket/socket.js';
import { upgradeWebSocket as upgrade, type UpgradeWebSocketOptions } from './websocket/upgrade.js';

/** The event types Hono names (the DOM's classes); waitstate's events carry the same fields. */
type EventOf<K extends 'onMessage' | 'onClose'> = Parameters<NonNullable<WSEvents[K]>>[0];

/**
 * A Hono handler that upgrades the request to a WebSocket and gives its events to the handlers
 * `createEvents` returns. A request that asks for no upgrade goes on to the next handler. As
 * Hono's Deno adapter, it accepts the first subprotocol the client offers unless `options.protocol`
 * names one.
 */
export const upgradeWebSocket = defineWebSocketHelper<UpgradedWebSocket, UpgradeWebSocketOptions>((c, events, options) => {
  // RFC 6455 §4.2.1: the Upgrade field names the websocket protocol, in any case.
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') return;
  const offered = c.req.header('sec-websocket-protocol')?.split(',')[0]?.trim();
  const { socket, response } = upgrade(c.req.raw, { ...(offered ? { protocol: offered } : {}), ...options });
  const context = new WSContext<UpgradedWebSocket>({
    raw: socket,
    url: socket.url ? new URL(socket.url) : null,
    get protocol() {
      return socket.protocol;
    },
    get readyState() {
      return socket.readyState as WSReadyState;
    },
    send: (data) => socket.send(data),
    close: (code, reason) => socket.close(code, reason),
  });
  socket.onopen = (event) => events.onOpen?.(event, context);
  socket.onmessage = (event) => events.onMessage?.(event as EventOf<'onMessage'>, context);
  socket.onclose = (event) => events.onClose?.(event as CloseEvent as EventOf<'onClose'>, context);
  socket.onerror = (event) => events.onError?.(event, context);
  return response;
});
