/**
 * The condition context of one authorization check: condition key -> values. Keys are
 * stored lower-cased because IAM condition keys are case-insensitive; a key that is not
 * present is simply absent (never an empty string). Several checks of one request share
 * a base context and add a few keys of their own through `layerContext`.
 */
export interface ConditionContext {
  /** Values of a key (the caller passes it lower-cased), or undefined when absent. */
  get(key: string): readonly string[] | undefined;
  /** Every key present (lower-cased), for explanations. */
  keys(): Iterable<string>;
}

export type ContextInput = Record<string, string | number | boolean | readonly string[] | undefined>;

/** A context from plain values; undefined values are left out, keys lower-cased. */
export function createContext(values: ContextInput = {}): Map<string, readonly string[]> {
  const m = new Map<string, readonly string[]>();
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) continue;
    m.set(k.toLowerCase(), Array.isArray(v) ? [...(v as readonly string[])] : [String(v)]);
  }
  return m;
}

/** A view that answers from `extra` first, then from `base` (neither is copied). */
export function layerContext(base: ConditionContext, extra: ReadonlyMap<string, readonly string[]>): ConditionContext {
  if (extra.size === 0) return base;
  return {
    get: (key) => extra.get(key) ?? base.get(key),
    *keys() {
      yield* extra.keys();
      for (const k of base.keys()) if (!extra.has(k)) yield k;
    },
  };
}

/** Plain object form, for explanations and debug logs. */
export function contextToObject(ctx: ConditionContext): Record<string, readonly string[]> {
  const out: Record<string, readonly string[]> = {};
  for (const k of ctx.keys()) out[k] = ctx.get(k) ?? [];
  return out;
}
