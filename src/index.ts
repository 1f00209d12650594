// The public surface of waitstate: everything a user imports is named here.
export { serve } from './server.js';
export type { App, BoundAddress, ServerHandle, Serving } from './server.js';
export type { ListeningInfo, ListeningListener, NodeServerOptions } from './serve-call.js';
export type { FetchHandler, RequestInfo } from './task.js';
export { OPTIONS, OptionError } from './options.js';
export type { Logger, ServeOptions } from './options.js';
export { LiteResponse } from './response.js';
export { fileResponse } from './file-response.js';
