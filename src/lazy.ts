// src/lazy.ts: make a cheap stand-in class pass for a WHATWG class (Request, Response).
//
// The stand-in answers a few members itself and builds the real object on first use of anything
// else. `delegateToReal` copies every other member of the real prototype as a forwarder to
// `materialize()`, then chains the prototypes so `instanceof` holds.

interface Materializable {
  materialize(): object;
}

export function delegateToReal(lazy: { prototype: Materializable }, real: { prototype: object }, tag: string): void {
  const proto = lazy.prototype;
  for (const name of Object.getOwnPropertyNames(real.prototype)) {
    if (name === 'constructor' || Object.prototype.hasOwnProperty.call(proto, name)) continue;
    const descriptor = Object.getOwnPropertyDescriptor(real.prototype, name)!;
    if (typeof descriptor.get === 'function') {
      Object.defineProperty(proto, name, {
        configurable: true,
        enumerable: descriptor.enumerable ?? false,
        get(this: Materializable) {
          return Reflect.get(real.prototype, name, this.materialize());
        },
      });
    } else if (typeof descriptor.value === 'function') {
      const method = descriptor.value as (...args: unknown[]) => unknown;
      Object.defineProperty(proto, name, {
        configurable: true,
        writable: true,
        value(this: Materializable, ...args: unknown[]) {
          return method.apply(this.materialize(), args);
        },
      });
    }
  }
  Object.setPrototypeOf(proto, real.prototype);
  Object.defineProperty(proto, Symbol.toStringTag, { value: tag, configurable: true });
}
