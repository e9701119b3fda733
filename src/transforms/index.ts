// The transform registry: a `transforms[]` entry's `type` -> its schema and build. Every
// transform is a small module (schema with defaults and docs, build -> compiled per source);
// the stage that runs them over chunks is ./stage.ts.

import { isSeq } from 'yaml';
import { array, refine, union, type Schema } from '../config/schema.js';
import type {
  EnrichConfig,
  FilterConfig,
  SampleConfig,
  ThrottleConfig,
  TransformConfig,
} from '../config/types.js';
import * as enrich from './enrich.js';
import * as filter from './filter.js';
import * as sample from './sample.js';
import * as throttle from './throttle.js';
import type { Decoded, Transform, TransformContext } from './types.js';

/** What src/transforms/<type>.ts exports. */
export interface TransformModule<C extends TransformConfig> {
  schema: Schema<Decoded<C>>;
  build(config: C, ctx: TransformContext): Transform;
}

export const transforms: {
  filter: TransformModule<FilterConfig>;
  enrich: TransformModule<EnrichConfig>;
  sample: TransformModule<SampleConfig>;
  throttle: TransformModule<ThrottleConfig>;
} = { filter, enrich, sample, throttle };

export const transformSchema = union(
  {
    filter: filter.schema,
    enrich: enrich.schema,
    sample: sample.schema,
    throttle: throttle.schema,
  },
  { what: 'transform', doc: 'One step; `type` picks which.' },
);

/** The ordered `transforms:` list; each entry gets its name (`<type>_<index>` by default). */
export const transformList: Schema<TransformConfig[]> = {
  ...refine(
    array(transformSchema, {
      default: [],
      doc: 'Ordered steps applied to events between parsing and batching: filter, enrich, sample, throttle. Each applies to the sources it names (default: all).',
    }),
    (list, at): TransformConfig[] => {
      const seen = new Map<string, number>();
      return list.map((t, i) => {
        const named = { ...t, name: t.name ?? `${t.type}_${i}` } as TransformConfig;
        const before = seen.get(named.name);
        if (before !== undefined) {
          const item = at.item(i, isSeq(at.node) ? at.node.items[i] : null);
          item
            .child('name')
            .fail(
              'VES_CONFIG_INVALID',
              `"${named.name}" is the name of transforms[${before}] too: names label metrics, make them unique`,
              true,
            );
        }
        seen.set(named.name, i);
        return named;
      });
    },
  ),
  fallback: () => [],
  defaultText: '[]',
};

/** Build one decoded entry (its module checks the rest: environment variables, ...). */
export function buildTransform(config: TransformConfig, ctx: TransformContext): Transform {
  const mod = transforms[config.type] as TransformModule<TransformConfig>;
  return mod.build(config, ctx);
}
