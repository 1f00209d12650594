// src/workers/comlink-node.ts: comlink's Endpoint over a Node MessagePort, Worker or parentPort.
//
// comlink ships a node adapter, but only as an untyped CJS/ESM pair that TypeScript cannot call
// under NodeNext; these few lines are the whole of it.
import type { Endpoint } from 'comlink';

type Transfer = Parameters<Endpoint['postMessage']>[1];
type Listener = Parameters<Endpoint['addEventListener']>[1];

interface NodePortLike {
  postMessage(message: unknown, transfer?: Transfer): void;
  on(event: 'message', listener: (data: unknown) => void): unknown;
  off(event: 'message', listener: (data: unknown) => void): unknown;
}

export function nodeEndpoint(port: NodePortLike): Endpoint {
  const wrapped = new WeakMap<Listener, (data: unknown) => void>();
  return {
    postMessage: (message: unknown, transfer?: Transfer) => port.postMessage(message, transfer),
    addEventListener: (_type: string, listener: Listener) => {
      const onMessage = (data: unknown) => {
        const event = { data } as MessageEvent;
        if (typeof listener === 'function') listener(event);
        else listener.handleEvent(event);
      };
      wrapped.set(listener, onMessage);
      port.on('message', onMessage);
    },
    removeEventListener: (_type: string, listener: Listener) => {
      const onMessage = wrapped.get(listener);
      if (onMessage === undefined) return;
      port.off('message', onMessage);
      wrapped.delete(listener);
    },
  };
}
