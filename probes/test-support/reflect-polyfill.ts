/**
 * @peculiar/x509 pulls in tsyringe, which demands a Reflect metadata API at import time; the
 * reflect-metadata package is not a dependency, and x509 only needs get/define (own and inherited) to exist.
 */
const store = new WeakMap<object, Map<unknown, unknown>>();
const reflect = Reflect as unknown as Record<string, unknown>;
if (typeof reflect.getMetadata !== 'function') {
  reflect.defineMetadata = (key: unknown, value: unknown, target: object) => {
    const map = store.get(target) ?? new Map<unknown, unknown>();
    map.set(key, value);
    store.set(target, map);
  };
  reflect.getMetadata = (key: unknown, target: object) => store.get(target)?.get(key);
  reflect.hasMetadata = (key: unknown, target: object) => store.get(target)?.has(key) ?? false;
  reflect.getOwnMetadata = reflect.getMetadata;
  reflect.hasOwnMetadata = reflect.hasMetadata;
  reflect.metadata = (key: unknown, value: unknown) => (target: object) => (reflect.defineMetadata as (k: unknown, v: unknown, t: object) => void)(key, value, target);
}
export {};
