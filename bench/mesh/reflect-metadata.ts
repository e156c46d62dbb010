// The Reflect metadata calls tsyringe needs (Reflect.getMetadata, getOwnMetadata, defineMetadata), which
// @peculiar/x509 asks its users to supply by importing a polyfill before it. `reflect-metadata` is not in
// node_modules; this covers the three calls tsyringe makes (metadata on classes, looked up the prototype
// chain) and defines nothing when a real polyfill is already loaded. Imported only by ./x509.ts.

type Target = object;
const store = new WeakMap<Target, Map<unknown, unknown>>();
const R = Reflect as unknown as Record<string, unknown>;

if (typeof R.getMetadata !== 'function') {
  const own = (key: unknown, target: Target): unknown => store.get(target)?.get(key);
  R.getOwnMetadata = own;
  R.getMetadata = (key: unknown, target: Target): unknown => {
    for (let t: Target | null = target; t; t = Object.getPrototypeOf(t) as Target | null) {
      const m = store.get(t);
      if (m?.has(key)) return m.get(key);
    }
    return undefined;
  };
  R.defineMetadata = (key: unknown, value: unknown, target: Target): void => {
    let m = store.get(target);
    if (!m) store.set(target, (m = new Map()));
    m.set(key, value);
  };
  R.hasMetadata = (key: unknown, target: Target): boolean => (R.getMetadata as (k: unknown, t: Target) => unknown)(key, target) !== undefined;
}

export {};
