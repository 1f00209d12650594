// src/fetch/lazy.ts: make a cheap stand-in class pass for a WHATWG class (Request, Response).
//
// The stand-in answers a few members itself and builds the real object on first use of anything
// else. `delegateToReal` copies every other member of the real prototype as a forwarder to
// `materialize()`, then chains the prototypes so `instanceof` holds. Node's own code reads the
// real class's internal slots (symbol-keyed own properties such as undici's `state`) from any
// object that passes `instanceof`, as `new Request(request)` does; those are forwarded too, found
// on `sample`, a real instance.

interface Materializable {
  materialize(): object;
}

export function delegateToReal(lazy: { prototype: Materializable }, real: { prototype: object }, tag: string, sample: object): void {
  const proto = lazy.prototype;
  for (const slot of Object.getOwnPropertySymbols(sample)) {
    Object.defineProperty(proto, slot, {
      configurable: true,
      get(this: Materializable) {
        return (this.materialize() as Record<symbol, unknown>)[slot];
      },
    });
  }
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
