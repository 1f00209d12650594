// src/index.ts: the public surface of waitstate ('waitstate'): everything a user imports is named here.
export { serve } from './server/serve.js';
export type { Serving } from './server/serve.js';
export type { App, BoundAddress, ConnectionInfo, FetchHandler, RequestInfo, ServerHandle } from './app.js';
export type { ListeningInfo, ListeningListener, NodeServerOptions } from './server/serve-call.js';
export { OPTIONS } from './config/options.js';
export type { Logger, ServeOptions } from './config/options.js';
export { OptionError, WebSocketHandshakeError } from './errors.js';
export { upgradeWebSocket } from './websocket/upgrade.js';
export type { UpgradeWebSocketOptions, WebSocketUpgrade } from './websocket/upgrade.js';
export type { CloseEvent, ErrorEvent, UpgradedWebSocket, WebSocketData } from './websocket/socket.js';
export { LiteResponse } from './fetch/response.js';
export { fileResponse } from './fetch/file-response.js';
