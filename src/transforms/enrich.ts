// The `enrich` transform: static fields and environment variables added to every event of its
// sources, and the choice of the event timestamp. Values are resolved once at build and
// pre-encoded with the source's own static fields into the per-chunk part of each event
// (engine/encoder.ts makeEncodeOptions), so enrichment costs nothing per line.

import { bool, fields, object, oneOf, refine, type Schema } from '../config/schema.js';
import type { FieldValue } from '../config/types.js';
import { ConfigError } from '../errors.js';
import { AGENT_KEYS } from '../parsers/keys.js';
import type { EnrichConfig } from '../config/types.js';
import { name, sources } from './shared-config.js';
import type {
  CompiledTransform,
  Decoded,
  SourceView,
  Transform,
  TransformContext,
  TransformInput,
} from './types.js';

/** Keys every event has already: enrich cannot set them (duplicate JSON keys). */
const BUILTIN = new Set(['message', 'timestamp', ...AGENT_KEYS]);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const shape = object(
  {
    type: oneOf(['enrich'], { doc: 'Adds fields to events.' }),
    name,
    sources,
    fields: fields({ doc: 'Static fields, e.g. {team: payments, tier: 1}.' }),
    env: fields({
      doc: 'Fields read from environment variables once at start, e.g. {region: AWS_REGION}; an unset variable stops the start (VES_CONFIG_ENV).',
    }),
    host: bool({
      default: true,
      doc: 'Every event carries `host` (the top-level `host` key); it cannot be turned off.',
    }),
    source: bool({
      default: true,
      doc: 'Every event carries `source` (the file path, `-` for stdin); it cannot be turned off.',
    }),
    timestamp: oneOf(['parsed', 'ingest'], {
      default: 'parsed',
      doc: '`parsed`: the time the parser read from the line (RFC 3339, UTC), else the ingest time; `ingest`: always the time the line was read.',
    }),
  },
  {
    doc: 'Adds static fields and environment variables to every event (resolved once, no per-event cost) and picks the event timestamp. A field set again (by a later enrich) takes the later value.',
  },
);

export const schema: Schema<Decoded<EnrichConfig>> = refine(
  shape,
  (c, at): Decoded<EnrichConfig> => {
    for (const [k, v] of Object.entries(c.env)) {
      if (typeof v !== 'string' || !ENV_NAME.test(v)) {
        at.child('env')
          .child(k)
          .fail('VES_CONFIG_TYPE', 'expected the name of an environment variable, e.g. AWS_REGION');
      }
      // Also checked by build(); here too so the error has line:col and nothing starts.
      // (ctx.env is null for configs built in code: their environment is checked at build.)
      const env = at.ctx.env;
      if (env !== null && typeof v === 'string' && env[v] === undefined) {
        at.child('env').child(k).fail('VES_CONFIG_ENV', unsetEnv(k, v));
      }
    }
    for (const part of ['fields', 'env'] as const) {
      for (const k of Object.keys(c[part])) {
        if (BUILTIN.has(k)) {
          at.child(part)
            .child(k)
            .fail('VES_CONFIG_INVALID', `"${k}" is a built-in event field; use another name`, true);
        }
        if (part === 'env' && Object.hasOwn(c.fields, k)) {
          at.child('env')
            .child(k)
            .fail('VES_CONFIG_INVALID', 'is set in `fields` too: keep one', true);
        }
      }
    }
    for (const k of ['host', 'source'] as const) {
      if (!c[k]) {
        at.child(k).fail(
          'VES_CONFIG_INVALID',
          `every event carries \`${k}\`: it cannot be turned off (remove the key)`,
        );
      }
    }
    return c;
  },
);

function unsetEnv(field: string, name: string): string {
  return `environment variable ${name} is not set (enrich reads it once at start); set it, or use fields: {${field}: "\${${name}:-default}"}`;
}

/** timestamp: ingest on a parsed source: the parsed times are forgotten, line by line. */
class IngestTime implements CompiledTransform {
  apply(t: TransformInput): number {
    const time = t.cap.time;
    const n = t.cap.n;
    for (let i = 0; i < n; i++) time[i] = NaN; // NaN: the encoder writes the ingest time
    return 0;
  }
}

export function build(config: EnrichConfig, ctx: TransformContext): Transform {
  const added: Record<string, FieldValue> = { ...config.fields };
  for (const [k, v] of Object.entries(config.env)) {
    const value = ctx.env[v as string];
    if (value === undefined) {
      throw new ConfigError('VES_CONFIG_ENV', `${ctx.path}.env.${k}`, unsetEnv(k, String(v)));
    }
    added[k] = value;
  }
  const ingest = config.timestamp === 'ingest';
  return {
    name: ctx.name,
    fields: Object.keys(added).length > 0 ? added : null,
    compile(source: SourceView): CompiledTransform | null {
      // A raw source's events always have the ingest time: nothing to do.
      return ingest && source.parser !== 'raw' ? new IngestTime() : null;
    },
  };
}
