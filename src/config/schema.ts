// A small schema language for the YAML config: closed objects, typed scalars with units, lists,
// named maps and a union on `type`. It checks the yaml *nodes*, so every problem names its key
// path and file:line:col; every field carries its default and a one-line doc (docs/configuration.md).

import {
  Document,
  isAlias,
  isMap,
  isNode,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  type Pair,
  YAMLMap,
} from 'yaml';
import { ConfigError, type ConfigLocation, type ErrorCode } from '../errors.js';
import { interpolate } from './interpolate.js';
import { suggest } from './suggest.js';
import { durationMs, sizeBytes } from './units.js';
import type { FieldValue } from './types.js';

export interface DecodeContext {
  /** File name for messages. */
  file: string;
  /** Turns node offsets into line:col; null when the nodes were built in code (--watch). */
  lineCounter: LineCounter | null;
  /** The parsed document, to resolve `*alias` nodes. */
  doc: Document | null;
  /** Environment for ${VAR}; null turns interpolation off (values from flags are literal). */
  env: NodeJS.ProcessEnv | null;
  /** Problems found so far: decoding goes on past a bad field so one run reports them all. */
  issues: ConfigError[];
}

/** Where a value sits: its dotted key path and its nodes, for messages with line:col. */
export class At {
  constructor(
    readonly ctx: DecodeContext,
    readonly path: string,
    /** The value node; null when the key is absent. */
    readonly node: Node | null,
    /** The key node; null at the top or when the key is absent. */
    readonly key: Node | null,
    /** Absent keys and nodes built in code report at their parent's position. */
    readonly parent: At | null = null,
  ) {}

  /** The named key of this map, present or not. */
  child(name: string): At {
    const pair = isMap(this.node) ? this.node.items.find((p) => keyText(p) === name) : undefined;
    return this.childOf(name, pair);
  }

  childOf(name: string, pair: Pair | undefined): At {
    const path = this.path ? `${this.path}.${name}` : name;
    return new At(this.ctx, path, pair ? this.resolve(pair.value) : null, nodeOf(pair?.key), this);
  }

  item(index: number, node: unknown): At {
    return new At(this.ctx, `${this.path}[${index}]`, this.resolve(node), null, this);
  }

  /** 1-based position of the value (or, with onKey, of the key), else of the nearest parent. */
  location(onKey = false): ConfigLocation | undefined {
    const lc = this.ctx.lineCounter;
    const n = onKey ? (this.key ?? this.node) : (this.node ?? this.key);
    if (lc && n?.range) return { file: this.ctx.file, ...lc.linePos(n.range[0]) };
    return this.parent?.location(true);
  }

  fail(code: ErrorCode, message: string, onKey = false): never {
    throw new ConfigError(code, this.path, message, this.location(onKey));
  }

  private resolve(value: unknown): Node | null {
    const n = nodeOf(value);
    return isAlias(n) && this.ctx.doc ? (n.resolve(this.ctx.doc) ?? null) : n;
  }
}

export interface Schema<T> {
  /** The type as the docs show it: `string`, `duration`, `list of string`... */
  readonly kind: string;
  /** One line for docs/configuration.md. */
  readonly doc: string;
  /** Builds the default (fresh each time, so nobody shares a mutable list); absent = required. */
  readonly fallback?: () => T;
  /** The default as the docs show it: `5ms`, `[]`, `os.hostname()`. */
  readonly defaultText?: string;
  // What the docs generator walks into:
  readonly fields?: Readonly<Record<string, Schema<unknown>>>;
  readonly removed?: Readonly<Record<string, string>>;
  readonly variants?: Readonly<Record<string, Schema<unknown>>>;
  readonly item?: Schema<unknown>;
  decode(at: At): T;
}

type Out<S> = S extends Schema<infer T> ? T : never;
type Shape<F> = { -readonly [K in keyof F]: Out<F[K]> };

interface Common<D> {
  doc: string;
  /** Absent: the key is required. */
  default?: D;
}

/** The escape hatch for one-off rules (e.g. `transforms`); the builders below all use it. */
export function custom<T>(
  kind: string,
  doc: string,
  def: { value: () => T; text: string } | undefined,
  decode: (at: At) => T,
): Schema<T> {
  return { kind, doc, decode, fallback: def?.value, defaultText: def?.text };
}

// ---- scalars ----------------------------------------------------------------------------

export function string(
  o: Common<string> & { check?: (s: string) => string | undefined },
): Schema<string> {
  return custom('string', o.doc, constant(o.default), (at: At) => {
    const { value, raw } = scalar(at, 'a string');
    if (typeof value !== 'string') {
      at.fail('VES_CONFIG_TYPE', `expected a string, got ${raw}; quote it if you mean text`);
    }
    if (value === '') at.fail('VES_CONFIG_TYPE', 'must not be empty');
    const problem = o.check?.(value);
    if (problem) at.fail('VES_CONFIG_TYPE', problem);
    return value;
  });
}

/** An IPv4/IPv6 literal (`[::1]`) or a DNS name: anything else would fail at listen() instead. */
const HOST =
  /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*)$/;

/** A `check` for string(): `host:port` (an IPv6 host in brackets); `example` is shown on error. */
export function hostPort(example: string): (s: string) => string | undefined {
  return (s) => {
    const colon = s.lastIndexOf(':');
    const digits = s.slice(colon + 1);
    if (colon <= 0 || !/^\d+$/.test(digits)) return `expected host:port, e.g. ${example}`;
    // Port 0: any free port (the agent logs the one it got); tests use it.
    if (Number(digits) > 65535) return `port ${digits} is out of range (0-65535)`;
    const host = s.slice(0, colon);
    if (!HOST.test(host)) {
      return `${JSON.stringify(host)} is not an IP address or host name (IPv6: [::1]:${digits})`;
    }
    return undefined;
  };
}

/** Like string(), but the default is computed when the config loads (e.g. os.hostname()). */
export function computed(s: Schema<string>, value: () => string, text: string): Schema<string> {
  return { ...s, fallback: value, defaultText: text };
}

export function int(o: Common<number> & { min?: number; max?: number }): Schema<number> {
  const kind = 'integer' + limits(bound(o.min), bound(o.max));
  return custom(kind, o.doc, constant(o.default), (at: At) => {
    const { value, raw, expanded } = scalar(at, 'a whole number');
    // A ${VAR} always yields text; read it as the number it spells.
    const n = typeof value === 'number' ? value : expanded ? Number(value) : NaN;
    if (!Number.isInteger(n) || (typeof value === 'string' && value.trim() === '')) {
      at.fail('VES_CONFIG_TYPE', `expected a whole number, got ${raw}`);
    }
    return inRange(at, n, bound(o.min), bound(o.max));
  });
}

/** Any finite number (thresholds of transforms: `gt: 399`, `lte: 0.5`). */
export function number(o: Common<number>): Schema<number> {
  return custom('number', o.doc, constant(o.default), (at: At) => {
    const { value, raw, expanded } = scalar(at, 'a number');
    const n = typeof value === 'number' ? value : expanded ? Number(value) : NaN;
    if (!Number.isFinite(n) || (typeof value === 'string' && value.trim() === '')) {
      at.fail('VES_CONFIG_TYPE', `expected a number, got ${raw}`);
    }
    return n;
  });
}

/** One string, number or boolean, kept as YAML typed it (`equals: 200` vs `equals: "200"`). */
export function scalarValue(o: Common<FieldValue>): Schema<FieldValue> {
  return custom('string, number or boolean', o.doc, constant(o.default), (at: At) => {
    const { value, raw } = scalar(at, 'a string, number or boolean');
    if (typeof value === 'string' || typeof value === 'boolean') return value;
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    return at.fail('VES_CONFIG_TYPE', `expected a string, number or boolean, got ${raw}`);
  });
}

export function bool(o: Common<boolean>): Schema<boolean> {
  return custom('boolean', o.doc, constant(o.default), (at: At) => {
    const { value, raw, expanded } = scalar(at, 'true or false');
    if (typeof value === 'boolean') return value;
    if (expanded && (value === 'true' || value === 'false')) return value === 'true';
    // YAML 1.2 reads yes/no/on/off as text, unlike YAML 1.1 tools.
    return at.fail('VES_CONFIG_TYPE', `expected true or false, got ${raw}`);
  });
}

export function oneOf<const V extends readonly string[]>(
  values: V,
  o: Common<V[number]> & { planned?: Record<string, string> },
): Schema<V[number]> {
  const list = values.join(' | ');
  return custom(list, o.doc, constant(o.default), (at: At) => {
    const { value, raw } = scalar(at, `one of ${list}`);
    if (typeof value === 'string' && values.includes(value)) return value as V[number];
    const later = typeof value === 'string' ? o.planned?.[value] : undefined;
    if (later) at.fail('VES_CONFIG_ENUM', later);
    const hint = typeof value === 'string' ? suggest(value, values) : '';
    return at.fail('VES_CONFIG_ENUM', `expected one of ${list}, got ${raw}${hint}`);
  });
}

export function duration(o: UnitOptions): Schema<number> {
  return unit('duration', 'a duration like 5ms, 1s, 2m or 1h', durationMs, o);
}

export function bytes(o: UnitOptions): Schema<number> {
  return unit('size', 'a size like 512KiB, 1MiB, 10MB or a number of bytes', sizeBytes, o);
}

/** Defaults and bounds are written as in YAML (`5ms`, `4KiB`) so the docs and messages show units. */
type UnitOptions = Common<string | number> & { min?: string | number; max?: string | number };

function unit(
  kind: string,
  expected: string,
  parse: (v: string | number) => number | undefined,
  o: UnitOptions,
): Schema<number> {
  const must = (v: string | number): number => {
    const n = parse(v);
    if (n === undefined) throw new Error(`schema bug: ${JSON.stringify(v)} is not ${expected}`);
    return n;
  };
  const min = bound(o.min ?? 0, must);
  const max = bound(o.max, must);
  const def = o.default === undefined ? undefined : must(o.default);
  const fallback = def === undefined ? undefined : { value: () => def, text: String(o.default) };
  return custom(kind + limits(o.min ? min : undefined, max), o.doc, fallback, (at: At) => {
    const { value, raw } = scalar(at, expected);
    const n = typeof value === 'number' || typeof value === 'string' ? parse(value) : undefined;
    if (n === undefined) at.fail('VES_CONFIG_TYPE', `expected ${expected}, got ${raw}`);
    return inRange(at, n, min, max);
  });
}

// ---- collections -----------------------------------------------------------------------

/** A list. `single: true` also takes one string as a one-item list (`include: /var/log/*.log`). */
export function array<T>(
  item: Schema<T>,
  o: Common<readonly T[]> & { single?: boolean },
): Schema<T[]> {
  const def = o.default;
  const fallback = def && { value: () => [...def], text: `[${def.join(', ')}]` };
  const s = custom(`list of ${item.kind}`, o.doc, fallback, (at: At) => {
    if (o.single && isScalar(at.node) && typeof at.node.value === 'string')
      return [item.decode(at)];
    if (!isSeq(at.node)) {
      const alt = o.single ? ' or a single string' : '';
      at.fail('VES_CONFIG_TYPE', `expected a list like [a, b]${alt}, got ${describe(at.node)}`);
    }
    return each(
      at,
      at.node.items.map((n, i) => () => item.decode(at.item(i, n))),
    );
  });
  return { ...s, item };
}

const EMPTY = { value: () => ({}), text: '{}' };

/** Component names become file and metric names: keep them plain. */
const NAME = /^[A-Za-z0-9_-]+$/;

/** Named components (`sources.<name>`). Empty by default: "at least one" is a top-level rule. */
export function map<T>(
  item: Schema<T>,
  o: { doc: string; what: string },
): Schema<Record<string, T>> {
  const s = custom(`map of ${o.what}`, o.doc, EMPTY, (at: At) => {
    const m = expectMap(at);
    const names = m.items.map((pair) => keyText(pair));
    const values = each(
      at,
      m.items.map((pair, i) => () => {
        const c = at.childOf(names[i] ?? '?', pair);
        if (names[i] === undefined || !NAME.test(names[i])) {
          c.fail(
            'VES_CONFIG_TYPE',
            `not a valid ${o.what} name: use letters, digits, _ and -`,
            true,
          );
        }
        return item.decode(c);
      }),
    );
    return Object.fromEntries(names.map((n, i) => [n, values[i]])); // fromEntries: `__proto__` stays a plain key
  });
  return { ...s, item };
}

/** Static event fields: a flat map of strings, numbers and booleans. */
export function fields(o: { doc: string }): Schema<Record<string, FieldValue>> {
  return custom('map of scalars', o.doc, EMPTY, (at: At) => {
    const m = expectMap(at);
    const values = each(
      at,
      m.items.map((pair) => () => {
        const c = at.childOf(keyText(pair) ?? '?', pair);
        const { value, raw } = scalar(c, 'a string, number or boolean');
        if (typeof value === 'string' || typeof value === 'boolean') return value;
        if (typeof value === 'number' && Number.isFinite(value)) return value;
        return c.fail('VES_CONFIG_TYPE', `expected a string, number or boolean, got ${raw}`);
      }),
    );
    return Object.fromEntries(m.items.map((p, i) => [keyText(p), values[i]]));
  });
}

/**
 * A closed object: unknown keys are errors with a did-you-mean, `removed` keys fail with their
 * hint. It has a default (all its fields' defaults) when every field has one.
 */
export function object<F extends Record<string, Schema<unknown>>>(
  shape: F,
  o: { doc: string; removed?: Record<string, string> },
): Schema<Shape<F>> {
  const entries = Object.entries(shape);
  const complete = entries.every(([, s]) => s.fallback);
  const decode = (at: At): Shape<F> => {
    const m = expectMap(at);
    const checks = m.items.map((pair) => () => {
      const name = keyText(pair);
      if (name !== undefined && Object.hasOwn(shape, name)) return;
      const c = at.childOf(name ?? '?', pair);
      const hint = name === undefined ? undefined : o.removed?.[name];
      if (hint) c.fail('VES_CONFIG_REMOVED', `was removed: ${hint}`, true);
      const close = name === undefined ? '' : suggest(name, Object.keys(shape));
      const known = close || ` (known keys: ${Object.keys(shape).join(', ')})`;
      c.fail('VES_CONFIG_UNKNOWN_KEY', `unknown key${known}`, true);
    });
    const values = entries.map(([name, s]) => () => {
      const c = at.child(name);
      if (!isNull(c.node)) return s.decode(c);
      if (s.fallback) return s.fallback();
      const what = c.node ? 'needs a value' : 'is required';
      return c.fail('VES_CONFIG_MISSING', `${what}. ${s.doc}`, true);
    });
    const decoded = each(at, [...checks, ...values]).slice(checks.length);
    return Object.fromEntries(entries.map(([name], i) => [name, decoded[i]])) as Shape<F>;
  };
  const fallback = complete
    ? () => Object.fromEntries(entries.map(([k, s]) => [k, s.fallback?.()])) as Shape<F>
    : undefined;
  return { kind: 'object', doc: o.doc, decode, fallback, fields: shape, removed: o.removed };
}

/** `null` or the inner schema; defaults to null (`rotate: null`). */
export function nullable<T>(inner: Schema<T>): Schema<T | null> {
  return { ...inner, kind: `null or ${inner.kind}`, fallback: () => null, defaultText: 'null' };
}

/** A key that may be left out and then stays undefined (the seed's shorthand keys). */
export function optional<T>(inner: Schema<T>): Schema<T | undefined> {
  return { ...inner, fallback: () => undefined, defaultText: '' };
}

/** Picks a variant by the map's `type` key; unknown types list the known ones. */
export function union<V extends Record<string, Schema<unknown>>>(
  variants: V,
  o: { doc: string; what: string; planned?: Record<string, string> },
): Schema<Out<V[keyof V]>> {
  const known = Object.keys(variants).join(', ');
  const decode = (at: At): Out<V[keyof V]> => {
    expectMap(at);
    const t = at.child('type');
    if (isNull(t.node))
      t.fail('VES_CONFIG_MISSING', `is required: the ${o.what} type, one of ${known}`, true);
    const { value, raw } = scalar(t, `a ${o.what} type`);
    const name = typeof value === 'string' ? value : '';
    if (Object.hasOwn(variants, name)) return variants[name].decode(at) as Out<V[keyof V]>;
    const later = o.planned?.[name];
    if (later) t.fail('VES_CONFIG_ENUM', later);
    const hint = suggest(name, Object.keys(variants));
    return t.fail('VES_CONFIG_ENUM', `unknown ${o.what} type ${raw} (known: ${known})${hint}`);
  };
  return { kind: o.what, doc: o.doc, decode, variants };
}

/** Runs cross-field rules (or reshapes) after the inner schema decoded cleanly. */
export function refine<T, R>(inner: Schema<T>, then: (value: T, at: At) => R): Schema<R> {
  return { ...inner, fallback: undefined, decode: (at) => then(inner.decode(at), at) };
}

// ---- running a schema -------------------------------------------------------------------

/** Decodes a whole document; throws one ConfigError listing every problem, earliest first. */
export function decodeRoot<T>(schema: Schema<T>, node: Node, ctx: DecodeContext): T {
  const at = new At(ctx, '', node, null);
  const [value] = each(at, [() => schema.decode(at)], false);
  if (ctx.issues.length > 0) throw combine(ctx.issues); // REPORTED is only thrown after an issue
  return value;
}

/** A config built in code (--watch): same defaults and checks, no interpolation, no line:col. */
export function decodeValue<T>(schema: Schema<T>, value: unknown, file: string): T {
  const doc = new Document(value);
  const ctx: DecodeContext = { file, lineCounter: null, doc, env: null, issues: [] };
  return decodeRoot(schema, nodeOf(doc.contents) ?? doc.createNode({}), ctx);
}

/** Builds nodes for a value made in code; problems in them point at `anchor` (e.g. `watch_path`). */
export function synthesize(anchor: At, path: string, value: unknown): At {
  return new At(anchor.ctx, path, nodeOf(new Document(value).contents), null, anchor);
}

/** The first problem (earliest in the file) carries code, path and line:col; the rest are listed. */
export function combine(issues: ConfigError[]): ConfigError {
  const pos = (e: ConfigError) => (e.location ? e.location.line * 1e6 + e.location.col : Infinity);
  const sorted = [...issues].sort((a, b) => pos(a) - pos(b));
  const [first, ...rest] = sorted;
  if (!first) return new ConfigError('VES_INTERNAL', '', 'config rejected without a reason');
  if (rest.length > 0) {
    const shown = rest.slice(0, 9).map((e) => `\n  also: ${e.message} [${e.code}]`);
    const more = rest.length > 9 ? `\n  ... and ${rest.length - 9} more` : '';
    first.message += shown.join('') + more;
  }
  return first;
}

/** Thrown once nested problems are recorded: the parent only learns that it failed. */
const REPORTED = new Error('config problems recorded');

/** Runs every step even after one fails (to report all problems), then fails if any did. */
function each<T>(at: At, steps: Array<() => T>, rethrow = true): T[] {
  const out: T[] = [];
  let failed = false;
  for (const step of steps) {
    try {
      out.push(step());
    } catch (err) {
      if (err instanceof ConfigError) at.ctx.issues.push(err);
      else if (err !== REPORTED) throw err;
      failed = true;
    }
  }
  if (failed && rethrow) throw REPORTED;
  return out;
}

// ---- helpers ----------------------------------------------------------------------------

function constant<T>(value: T | undefined): { value: () => T; text: string } | undefined {
  return value === undefined ? undefined : { value: () => value, text: String(value) };
}

function nodeOf(value: unknown): Node | null {
  return isNode(value) ? value : null;
}

function keyText(pair: Pair): string | undefined {
  const k = pair.key;
  if (isScalar(k) && (typeof k.value === 'string' || typeof k.value === 'number')) {
    return String(k.value);
  }
  return undefined;
}

/** True for an absent key and for `key:` with no value (both mean "use the default"). */
export function isNull(node: Node | null): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

function expectMap(at: At): YAMLMap {
  if (isMap(at.node)) return at.node;
  if (isNull(at.node)) return new YAMLMap(); // `key:` with no value: an empty map
  return at.fail('VES_CONFIG_TYPE', `expected a map of keys, got ${describe(at.node)}`);
}

/**
 * A scalar's value with ${VAR} expanded in strings. `raw` describes what the file says, never
 * the expanded text: an environment value may be a secret.
 */
function scalar(at: At, expected: string): { value: unknown; raw: string; expanded: boolean } {
  const n = at.node;
  if (!isScalar(n)) return at.fail('VES_CONFIG_TYPE', `expected ${expected}, got ${describe(n)}`);
  const raw = describe(n);
  if (typeof n.value !== 'string' || !at.ctx.env) return { value: n.value, raw, expanded: false };
  const value = interpolate(n.value, at.ctx.env, (m) => at.fail('VES_CONFIG_ENV', m));
  const expanded = n.value.includes('${');
  return { value, raw: expanded ? `${raw} (value not shown)` : raw, expanded };
}

function describe(node: Node | null): string {
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  if (!isScalar(node) || node.value === null) return 'nothing';
  const v = node.value;
  if (typeof v !== 'string') return `${typeof v} ${String(v)}`;
  return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
}

/** A limit and how messages show it (`4KiB` rather than 4096). */
type Bound = { value: number; text: string } | undefined;

function bound<V extends string | number>(v: V | undefined, parse = (x: V) => Number(x)): Bound {
  return v === undefined ? undefined : { value: parse(v), text: String(v) };
}

/** For the docs: `integer (min 1)`, `size (min 4KiB, max 64MiB)`. */
function limits(min: Bound, max: Bound): string {
  const parts = [min && `min ${min.text}`, max && `max ${max.text}`].filter(Boolean);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

function inRange(at: At, n: number, min: Bound, max: Bound): number {
  if (min && n < min.value) at.fail('VES_CONFIG_RANGE', `must be at least ${min.text}`);
  if (max && n > max.value) at.fail('VES_CONFIG_RANGE', `must be at most ${max.text}`);
  return n;
}
