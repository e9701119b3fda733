// The `throttle` transform: at most `events_per_second` events per second, per value of `key`
// (or in all), by token buckets; the excess is dropped and counted. One set of buckets per
// transform, shared by the sources it applies to. The buckets are state across chunks, so the
// chunks of those sources are always parsed on the main thread, even with parse workers
// (src/pipeline/workers.ts, "State"): the limit is one and exact, not one per thread.
//
// A bucket holds up to events_per_second tokens (one second of burst) and refills at
// events_per_second per second from the chunk's clock (read once per chunk). Keys are told apart
// by a 32-bit hash of their bytes, so a key costs no string; two keys sharing a hash share a
// bucket (~1 in 4 billion per pair). At most max_keys buckets are kept: past that, buckets that
// are full again (idle for a second) are forgotten, and if too few are, all are.

import {
  int,
  number,
  object,
  oneOf,
  optional,
  refine,
  string,
  type Schema,
} from '../config/schema.js';
import { FieldReader, keyHash } from './fields.js';
import type { ThrottleConfig } from '../config/types.js';
import { name, sources } from './shared-config.js';
import type {
  CompiledTransform,
  Decoded,
  SourceView,
  Transform,
  TransformContext,
  TransformInput,
} from './types.js';

export const schema: Schema<Decoded<ThrottleConfig>> = refine(
  object(
    {
      type: oneOf(['throttle'], { doc: 'Limits the event rate.' }),
      name,
      sources,
      events_per_second: number({
        doc: 'Events let through per second (per key), with a burst of one second of them.',
      }),
      key: optional(
        string({
          doc: 'Limit each value of this field on its own (e.g. `remote_addr`); events without it share one limit.',
        }),
      ),
      max_keys: int({
        default: 10000, // ~100 bytes a bucket: bounds the memory a key with endless values takes
        min: 1,
        doc: 'Most keys tracked at once; past it, idle keys are forgotten.',
      }),
    },
    {
      doc: 'Lets at most `events_per_second` events through per second, per key; the rest are dropped and counted in `ves_transform_dropped_total{transform}`.',
    },
  ),
  (c, at) => {
    if (!(c.events_per_second > 0)) {
      at.child('events_per_second').fail('VES_CONFIG_RANGE', 'must be more than 0');
    }
    return c;
  },
);

class Bucket {
  constructor(
    public tokens: number,
    public last: number,
  ) {}
}

/** The buckets of one throttle, shared by the sources it is compiled for. */
class Buckets {
  /** Hash -> bucket; the keyless bucket is `none`. */
  private readonly byKey = new Map<number, Bucket>();
  private readonly none: Bucket;
  constructor(
    /** Tokens per millisecond. */
    private readonly rate: number,
    /** Bucket size: one second of events. */
    private readonly burst: number,
    private readonly maxKeys: number,
  ) {
    this.none = new Bucket(burst, -Infinity);
  }

  /** Take a token from the bucket of hash h (-1: the keyless one) at `now` ms; false: none left. */
  take(h: number, now: number): boolean {
    let b: Bucket | undefined = h < 0 ? this.none : this.byKey.get(h);
    if (b === undefined) {
      if (this.byKey.size >= this.maxKeys) this.evict(now);
      b = new Bucket(this.burst, now); // once per new key, not per line
      this.byKey.set(h, b);
    } else if (now > b.last) {
      const t = b.tokens + (now - b.last) * this.rate;
      b.tokens = t < this.burst ? t : this.burst;
    }
    if (now > b.last) b.last = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /**
   * Forget the buckets that are full again (idle for a refill time); if that frees less than a
   * quarter of max_keys, forget all: a sweep then happens at most once per max_keys/4 new keys,
   * so a stream of ever-new keys costs O(1) per key, not a sweep each.
   */
  private evict(now: number): void {
    const full = this.burst / this.rate; // ms to refill from empty
    for (const [h, b] of this.byKey) if (now - b.last >= full) this.byKey.delete(h);
    if (this.byKey.size > (this.maxKeys * 3) / 4) this.byKey.clear();
  }
}

class CompiledThrottle implements CompiledTransform {
  constructor(
    private readonly buckets: Buckets,
    private readonly r: FieldReader | null,
  ) {}
  apply(t: TransformInput): number {
    const keep = t.keep;
    const cap = t.cap;
    const n = cap.n;
    const now = t.now;
    const r = this.r;
    const buckets = this.buckets;
    let dropped = 0;
    for (let i = 0; i < n; i++) {
      if (keep[i] === 0) continue;
      const h = r === null ? -1 : keyHash(r, r.read(cap, i));
      if (!buckets.take(h, now)) {
        keep[i] = 0;
        dropped++;
      }
    }
    return dropped;
  }
}

export function build(config: ThrottleConfig, ctx: TransformContext): Transform {
  const eps = config.events_per_second;
  // A burst of one second of events, at least one event (a rate below 1/s still lets one by).
  const buckets = new Buckets(eps / 1000, Math.max(1, eps), config.max_keys);
  return {
    name: ctx.name,
    fields: null,
    compile(source: SourceView): CompiledTransform | null {
      const r = config.key === undefined ? null : new FieldReader(config.key, source);
      return new CompiledThrottle(buckets, r !== null && r.possible ? r : null);
    },
  };
}
