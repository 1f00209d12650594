// test/helpers/channel-config.ts: the ChannelConfig a server would build, for channels run over a
// FakeSocket without a server around them.
import { channelDeadlines, proxyPolicy, type ChannelConfig } from '../../src/connection/channel.js';
import { resolveOptions, type ServeOptions } from '../../src/config/options.js';
import { quietLogger } from './raw-client.js';
import type { FetchHandler } from '../../src/app.js';
import { WebSocketHub } from '../../src/websocket/hub.js';

export function channelConfig(app: FetchHandler, options: ServeOptions = {}, onClosed: () => void = () => {}): ChannelConfig {
  const settings = resolveOptions({ logger: quietLogger, ...options });
  return {
    app,
    pool: undefined,
    settings,
    logger: settings.logger,
    limits: { maxHeaderBytes: 8192, maxBodyBytes: 1 << 20 },
    ident: 'waitstate',
    proxy: proxyPolicy(settings),
    deadlines: channelDeadlines(settings),
    websockets: new WebSocketHub(),
    handlerTimeoutMs: settings.handlerTimeout * 1000,
    droppedFieldsLogged: new Set(),
    factoryHint: { appRef: undefined, said: false },
    accessLog: undefined,
    inspect: undefined,
    onClosed,
  };
}
