import { types } from 'node:util';

/** A read-only view of a JSON-like value, all the way down. */
export type DeepReadonly<T> = T extends (infer E)[]
  ? ReadonlyArray<DeepReadonly<E>>
  : T extends object
    ? { readonly [P in keyof T]: DeepReadonly<T[P]> }
    : T;

/**
 * Freezes a JSON-like value and everything reachable from it.
 *
 * Cached values are frozen once, when stored, instead of cloned on every hit: a hit then costs
 * nothing, and a caller that mutates what it got gets a TypeError (strict mode) instead of
 * silently changing the next caller's copy. Maps, Sets and typed arrays cannot be frozen, so they
 * are refused rather than handed out mutable.
 */
export function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) {
    return value as DeepReadonly<T>;
  }
  // util.types, not instanceof: values may come from another realm (structuredClone, vm contexts).
  if (types.isMap(value) || types.isSet(value) || ArrayBuffer.isView(value)) {
    throw new TypeError(
      `cannot freeze a ${Object.prototype.toString.call(value).slice(8, -1)}: ` +
        'cached values must be JSON-like (objects, arrays, primitives)',
    );
  }
  Object.freeze(value);
  for (const key of Reflect.ownKeys(value)) {
    deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value as DeepReadonly<T>;
}
