// The `sample` transform: keeps 1 event in `rate`. Without `key`, a counter per source keeps
// the 1st, (rate+1)th, ... event (deterministic: the same input keeps the same events). With
// `key`, the field's value is hashed and an event is kept when its hash falls in 1/rate of the
// range: all events with the same value are kept or dropped together (e.g. whole traces).

import { int, object, oneOf, optional, string, type Schema } from '../config/schema.js';
import { FieldReader, keyHash } from './fields.js';
import type { SampleConfig } from '../config/types.js';
import { name, sources } from './shared-config.js';
import type {
  CompiledTransform,
  Decoded,
  SourceView,
  Transform,
  TransformContext,
  TransformInput,
} from './types.js';

export const schema: Schema<Decoded<SampleConfig>> = object(
  {
    type: oneOf(['sample'], { doc: 'Keeps 1 event in `rate`.' }),
    name,
    sources,
    rate: int({ min: 1, doc: 'Keep 1 event in this many (1: keep all).' }),
    key: optional(
      string({
        doc: 'Sample by this field: events with the same value are kept or dropped together (by a hash of it). Events without it are counted as without `key`.',
      }),
    ),
  },
  { doc: 'Keeps 1 event in `rate`, by a counter per source or by a hash of a key field.' },
);

class CountSample implements CompiledTransform {
  /** Events seen since the last kept one. */
  private count = 0;
  constructor(private readonly rate: number) {}
  apply(t: TransformInput): number {
    const keep = t.keep;
    const n = t.cap.n;
    const rate = this.rate;
    let count = this.count;
    let dropped = 0;
    for (let i = 0; i < n; i++) {
      if (keep[i] === 0) continue;
      if (count === 0) count = rate;
      else {
        keep[i] = 0;
        dropped++;
      }
      count--;
    }
    this.count = count;
    return dropped;
  }
}

class KeySample implements CompiledTransform {
  /** Kept when hash < this: 1/rate of the 32-bit range. */
  private readonly below: number;
  /** The counter of events without the key (as CountSample). */
  private count = 0;
  constructor(
    private readonly r: FieldReader,
    private readonly rate: number,
  ) {
    this.below = Math.floor(0x100000000 / rate);
  }
  apply(t: TransformInput): number {
    const keep = t.keep;
    const cap = t.cap;
    const n = cap.n;
    const r = this.r;
    const below = this.below;
    let count = this.count;
    let dropped = 0;
    for (let i = 0; i < n; i++) {
      if (keep[i] === 0) continue;
      const h = keyHash(r, r.read(cap, i));
      let drop: boolean;
      if (h >= 0) drop = h >= below;
      else {
        drop = count !== 0;
        if (count === 0) count = this.rate;
        count--;
      }
      if (drop) {
        keep[i] = 0;
        dropped++;
      }
    }
    this.count = count;
    return dropped;
  }
}

export function build(config: SampleConfig, ctx: TransformContext): Transform {
  const rate = config.rate;
  return {
    name: ctx.name,
    fields: null,
    compile(source: SourceView): CompiledTransform | null {
      if (rate === 1) return null;
      if (config.key === undefined) return new CountSample(rate);
      const r = new FieldReader(config.key, source);
      return r.possible ? new KeySample(r, rate) : new CountSample(rate);
    },
  };
}
