// The `filter` transform: keeps (action: keep) or drops (action: drop) the events for which its
// condition holds. The condition is compiled once per source (./condition.ts); per line it is a
// few byte compares over the capture tables.

import { object, oneOf, type Schema } from '../config/schema.js';
import {
  compileCondition,
  Const,
  condition,
  type Cond,
  type ConditionConfig,
} from './condition.js';
import type { FilterConfig } from '../config/types.js';
import { name, sources } from './shared-config.js';
import type {
  CompiledTransform,
  Decoded,
  SourceView,
  Transform,
  TransformContext,
  TransformInput,
} from './types.js';

export const schema: Schema<Decoded<FilterConfig>> = object(
  {
    type: oneOf(['filter'], { doc: 'Keeps or drops events by a condition.' }),
    name,
    sources,
    action: oneOf(['keep', 'drop'], {
      default: 'keep',
      doc: '`keep`: only events matching the condition go on; `drop`: matching events are dropped.',
    }),
    condition,
  },
  {
    doc: 'Keeps (or drops) the events matching a condition. Dropped events are counted in `ves_transform_dropped_total{transform}`.',
  },
);

class CompiledFilter implements CompiledTransform {
  constructor(
    private readonly cond: Cond,
    /** What the condition must say for a line to stay. */
    private readonly keepWhen: boolean,
  ) {}

  apply(t: TransformInput): number {
    const cond = this.cond;
    const keepWhen = this.keepWhen;
    const keep = t.keep;
    const cap = t.cap;
    const n = cap.n;
    cond.reset();
    let dropped = 0;
    for (let i = 0; i < n; i++) {
      if (keep[i] === 0) continue;
      if (cond.test(cap, i) !== keepWhen) {
        keep[i] = 0;
        dropped++;
      }
    }
    return dropped;
  }
}

/** Drops every line: the condition is constant for this source and says so. */
class DropAll implements CompiledTransform {
  apply(t: TransformInput): number {
    const keep = t.keep;
    let dropped = 0;
    for (let i = 0; i < t.cap.n; i++) {
      dropped += keep[i];
      keep[i] = 0;
    }
    return dropped;
  }
}

export function build(config: FilterConfig, ctx: TransformContext): Transform {
  const keepWhen = config.action === 'keep';
  return {
    name: ctx.name,
    fields: null,
    compile(source: SourceView): CompiledTransform | null {
      const cond = compileCondition(config.condition, source);
      if (cond instanceof Const) return cond.value === keepWhen ? null : new DropAll();
      return new CompiledFilter(cond, keepWhen);
    },
  };
}
