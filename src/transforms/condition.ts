// Conditions of `filter` (and any transform that wants one): the config forms, their schema,
// and their compiled shape, a small tree of test objects built once per source whose test(cap, i)
// reads line i's field values as byte spans (./fields.ts). A condition on a field the source can
// never have, or on one of its static fields, folds to a constant at compile time.
//
//   {field: F, equals: V}          string: same text; number: same number (of a number field or
//                                  a numeric string); boolean: same boolean
//   {field: F, prefix: S}          the text starts with S (message: the whole line)
//   {field: F, contains: S}        the text holds S
//   {field: F, in: [V, ...]}       equals one of them
//   {field: F, gt|gte|lt|lte: N}   a numeric compare (number fields, or text that is a number);
//                                  several together are a range: {gte: 400, lt: 500}
//   {level_at_least: warn}         `level` (a name, any case, or a syslog/pino number), else syslog
//                                  `severity`; trace < debug < info < notice < warn < error <
//                                  crit < alert < emerg. No level: false.
//   {all: [...]} {any: [...]} {not: C}
//
// A missing field makes every leaf false (so `not` of one true).

import {
  array,
  number,
  object,
  oneOf,
  optional,
  refine,
  scalarValue,
  string,
  type At,
  type Schema,
} from '../config/schema.js';
import type { ConditionConfig, FieldValue } from '../config/types.js';

export type { ConditionConfig };
import type { Captures } from '../parsers/captures.js';
import {
  FieldReader,
  LEVELS,
  levelRank,
  numberAt,
  numericLevelRank,
  V_FALSE,
  V_NULL,
  V_NUM,
  V_STR,
  V_TRUE,
} from './fields.js';
import type { SourceView } from './types.js';

const CONDITION_DOC =
  'A condition: `{field, equals}`, `{field, prefix}`, `{field, contains}`, `{field, in: [..]}`, `{field, gt|gte|lt|lte: N}` (several make a range), `{level_at_least: warn}`, or `{all: [..]}`, `{any: [..]}`, `{not: ..}` of conditions. `message` is the event text (the whole line for `parser: raw`). A missing field makes a leaf false.';

// The schema refers to itself (all/any/not): through this forward reference.
const conditionRef: Schema<ConditionConfig> = {
  kind: 'condition',
  doc: CONDITION_DOC,
  decode: (at: At) => condition.decode(at),
};

const FIELD_OPS = ['equals', 'prefix', 'contains', 'in', 'gt', 'gte', 'lt', 'lte'] as const;
const RANGE_OPS = ['gt', 'gte', 'lt', 'lte'] as const;
const ALONE = ['level_at_least', 'all', 'any', 'not'] as const;

const shape = object(
  {
    field: optional(string({ doc: 'The field to test (`message`: the event text).' })),
    equals: optional(scalarValue({ doc: 'Equal to this string, number or boolean.' })),
    prefix: optional(string({ doc: 'Starts with this text.' })),
    contains: optional(string({ doc: 'Holds this text.' })),
    in: optional(array(scalarValue({ doc: 'A value.' }), { doc: 'Equal to one of these.' })),
    gt: optional(number({ doc: 'Greater than.' })),
    gte: optional(number({ doc: 'Greater than or equal.' })),
    lt: optional(number({ doc: 'Less than.' })),
    lte: optional(number({ doc: 'Less than or equal.' })),
    level_at_least: optional(oneOf(LEVELS, { doc: 'The event level is at least this.' })),
    all: optional(array(conditionRef, { doc: 'Every one of these conditions.' })),
    any: optional(array(conditionRef, { doc: 'At least one of these conditions.' })),
    not: optional(conditionRef),
  },
  { doc: CONDITION_DOC },
);

export const condition: Schema<ConditionConfig> = {
  ...refine(shape, (c, at): ConditionConfig => {
    const set = (Object.keys(c) as Array<keyof ConditionConfig>).filter((k) => c[k] !== undefined);
    const alone = set.filter((k) => (ALONE as readonly string[]).includes(k));
    const ops = set.filter((k) => (FIELD_OPS as readonly string[]).includes(k));
    if (alone.length > 0) {
      if (set.length > 1) {
        const other = set.find((k) => k !== alone[0]) ?? alone[0];
        at.child(other).fail(
          'VES_CONFIG_INVALID',
          `cannot be combined with ${alone[0]} in one condition; nest them in all: [...]`,
          true,
        );
      }
      for (const k of ['all', 'any'] as const) {
        if (c[k]?.length === 0)
          at.child(k).fail('VES_CONFIG_INVALID', 'needs at least one condition');
      }
      return c;
    }
    if (c.field === undefined) {
      if (ops.length === 0) {
        at.fail(
          'VES_CONFIG_MISSING',
          `is not a condition: use {field, equals|prefix|contains|in|gt|gte|lt|lte}, {level_at_least}, {all}, {any} or {not}`,
        );
      }
      at.child('field').fail('VES_CONFIG_MISSING', `is required with ${ops[0]}`, true);
    }
    if (ops.length === 0) {
      at.child('field').fail(
        'VES_CONFIG_MISSING',
        'needs a test next to it: equals, prefix, contains, in, gt, gte, lt or lte',
        true,
      );
    }
    const nonRange = ops.filter((k) => !(RANGE_OPS as readonly string[]).includes(k));
    if (nonRange.length > 1 || (nonRange.length === 1 && ops.length > 1)) {
      at.child(ops[1]).fail(
        'VES_CONFIG_INVALID',
        `cannot be combined with ${ops[0]} in one condition; use all: [...] or any: [...]`,
        true,
      );
    }
    if (c.in?.length === 0) at.child('in').fail('VES_CONFIG_INVALID', 'needs at least one value');
    return c;
  }),
  kind: 'condition',
  doc: CONDITION_DOC,
};

// ---- compiled conditions --------------------------------------------------------------------

/** A compiled condition: test(cap, i) for line i of the chunk in cap. */
export abstract class Cond {
  /** Called once per chunk before the tests (caches that hold within one chunk). */
  reset(): void {}
  abstract test(cap: Captures, i: number): boolean;
}

export class Const extends Cond {
  constructor(readonly value: boolean) {
    super();
  }
  test(): boolean {
    return this.value;
  }
}

class All extends Cond {
  constructor(private readonly parts: Cond[]) {
    super();
  }
  override reset(): void {
    for (const p of this.parts) p.reset();
  }
  test(cap: Captures, i: number): boolean {
    const parts = this.parts;
    for (let k = 0; k < parts.length; k++) if (!parts[k].test(cap, i)) return false;
    return true;
  }
}

class Any extends Cond {
  constructor(private readonly parts: Cond[]) {
    super();
  }
  override reset(): void {
    for (const p of this.parts) p.reset();
  }
  test(cap: Captures, i: number): boolean {
    const parts = this.parts;
    for (let k = 0; k < parts.length; k++) if (parts[k].test(cap, i)) return true;
    return false;
  }
}

class Not extends Cond {
  constructor(private readonly inner: Cond) {
    super();
  }
  override reset(): void {
    this.inner.reset();
  }
  test(cap: Captures, i: number): boolean {
    return !this.inner.test(cap, i);
  }
}

function sameBytes(src: Uint8Array, s: number, e: number, want: Uint8Array): boolean {
  const n = want.length;
  if (e - s !== n) return false;
  for (let k = 0; k < n; k++) if (src[s + k] !== want[k]) return false;
  return true;
}

/** equals a string: the text (of a string or a number) is the same bytes. */
class EqualsText extends Cond {
  private readonly want: Buffer;
  /** `equals: "true"` also matches a JSON true, and so on. */
  private readonly literal: number;
  constructor(
    private readonly r: FieldReader,
    text: string,
  ) {
    super();
    this.want = Buffer.from(text, 'utf8');
    this.literal =
      text === 'true' ? V_TRUE : text === 'false' ? V_FALSE : text === 'null' ? V_NULL : -1;
  }
  test(cap: Captures, i: number): boolean {
    const r = this.r;
    const k = r.read(cap, i);
    if (k === V_STR || k === V_NUM) return sameBytes(r.src, r.s, r.e, this.want);
    return k === this.literal;
  }
}

/** equals a number: a number field, or text that reads as the same number. */
class EqualsNumber extends Cond {
  constructor(
    private readonly r: FieldReader,
    private readonly want: number,
  ) {
    super();
  }
  test(cap: Captures, i: number): boolean {
    const r = this.r;
    const k = r.read(cap, i);
    return (k === V_NUM || k === V_STR) && numberAt(r.src, r.s, r.e) === this.want;
  }
}

class EqualsBool extends Cond {
  private readonly kind: number;
  constructor(
    private readonly r: FieldReader,
    want: boolean,
  ) {
    super();
    this.kind = want ? V_TRUE : V_FALSE;
  }
  test(cap: Captures, i: number): boolean {
    return this.r.read(cap, i) === this.kind;
  }
}

class Prefix extends Cond {
  private readonly want: Buffer;
  constructor(
    private readonly r: FieldReader,
    text: string,
  ) {
    super();
    this.want = Buffer.from(text, 'utf8');
  }
  test(cap: Captures, i: number): boolean {
    const r = this.r;
    const k = r.read(cap, i);
    if (k !== V_STR && k !== V_NUM) return false;
    const want = this.want;
    const n = want.length;
    if (r.e - r.s < n) return false;
    const src = r.src;
    const s = r.s;
    for (let j = 0; j < n; j++) if (src[s + j] !== want[j]) return false;
    return true;
  }
}

/**
 * contains: over the chunk's own bytes, Buffer#indexOf (native) from the value's start; its
 * answer "the next occurrence from F is at A" holds for every later start up to A, so the lines
 * of a chunk share one forward scan instead of each scanning on to the chunk's end.
 */
class Contains extends Cond {
  private readonly want: Buffer;
  private cacheFrom = -1;
  private cacheAt = -1;
  constructor(
    private readonly r: FieldReader,
    text: string,
  ) {
    super();
    this.want = Buffer.from(text, 'utf8');
  }
  override reset(): void {
    this.cacheFrom = -1;
    this.cacheAt = -1;
  }
  test(cap: Captures, i: number): boolean {
    const r = this.r;
    const k = r.read(cap, i);
    if (k !== V_STR && k !== V_NUM) return false;
    const want = this.want;
    const n = want.length;
    const s = r.s;
    const e = r.e;
    if (n === 0) return true;
    if (e - s < n) return false;
    if (r.src === cap.buf) {
      let at: number;
      if (this.cacheFrom >= 0 && s >= this.cacheFrom && s <= this.cacheAt) at = this.cacheAt;
      else {
        at = cap.buf.indexOf(want, s);
        if (at < 0) at = cap.buf.length;
        this.cacheFrom = s;
        this.cacheAt = at;
      }
      return at + n <= e;
    }
    // A decoded value (scratch): a plain search.
    const src = r.src;
    const first = want[0];
    for (let j = s; j + n <= e; j++) {
      if (src[j] !== first) continue;
      let m = 1;
      while (m < n && src[j + m] === want[m]) m++;
      if (m === n) return true;
    }
    return false;
  }
}

/** in: [..]: texts grouped by byte length, numbers compared as numbers. */
class In extends Cond {
  private readonly byLength: Array<Buffer[] | undefined> = [];
  private readonly numbers: number[] = [];
  private readonly bools: number[] = [];
  constructor(
    private readonly r: FieldReader,
    values: FieldValue[],
  ) {
    super();
    for (const v of values) {
      if (typeof v === 'number') this.numbers.push(v);
      else if (typeof v === 'boolean') this.bools.push(v ? V_TRUE : V_FALSE);
      else {
        const b = Buffer.from(v, 'utf8');
        (this.byLength[b.length] ??= []).push(b);
        if (v === 'true') this.bools.push(V_TRUE);
        if (v === 'false') this.bools.push(V_FALSE);
      }
    }
  }
  test(cap: Captures, i: number): boolean {
    const r = this.r;
    const k = r.read(cap, i);
    if (k !== V_STR && k !== V_NUM) return this.bools.includes(k);
    const list = this.byLength[r.e - r.s];
    if (list !== undefined) {
      for (let j = 0; j < list.length; j++) if (sameBytes(r.src, r.s, r.e, list[j])) return true;
    }
    const nums = this.numbers;
    if (nums.length === 0) return false;
    const x = numberAt(r.src, r.s, r.e);
    for (let j = 0; j < nums.length; j++) if (nums[j] === x) return true;
    return false;
  }
}

/** gt/gte/lt/lte: an open or closed range; unset bounds are infinite. */
class Range extends Cond {
  constructor(
    private readonly r: FieldReader,
    private readonly lo: number,
    private readonly loOpen: boolean,
    private readonly hi: number,
    private readonly hiOpen: boolean,
  ) {
    super();
  }
  test(cap: Captures, i: number): boolean {
    const r = this.r;
    const k = r.read(cap, i);
    if (k !== V_NUM && k !== V_STR) return false;
    const x = numberAt(r.src, r.s, r.e);
    if (x !== x) return false; // NaN: not a number
    if (this.loOpen ? x <= this.lo : x < this.lo) return false;
    return this.hiOpen ? x < this.hi : x <= this.hi;
  }
}

class LevelAtLeast extends Cond {
  constructor(
    private readonly level: FieldReader | null,
    private readonly severity: FieldReader | null,
    private readonly min: number,
  ) {
    super();
  }
  test(cap: Captures, i: number): boolean {
    let rank = -1;
    const l = this.level;
    if (l !== null) {
      const k = l.read(cap, i);
      if (k === V_STR) rank = levelRank(l.src, l.s, l.e);
      else if (k === V_NUM) rank = numericLevelRank(numberAt(l.src, l.s, l.e));
    }
    const sv = this.severity;
    if (rank < 0 && sv !== null && sv.read(cap, i) === V_NUM) {
      const n = numberAt(sv.src, sv.s, sv.e);
      if (n >= 0 && n <= 7) rank = numericLevelRank(n);
    }
    return rank >= this.min;
  }
}

/** Compile a decoded condition for one source. */
export function compileCondition(c: ConditionConfig, source: SourceView): Cond {
  if (c.all !== undefined)
    return fold(
      c.all.map((x) => compileCondition(x, source)),
      true,
    );
  if (c.any !== undefined)
    return fold(
      c.any.map((x) => compileCondition(x, source)),
      false,
    );
  if (c.not !== undefined) {
    const inner = compileCondition(c.not, source);
    return inner instanceof Const ? new Const(!inner.value) : new Not(inner);
  }
  if (c.level_at_least !== undefined) {
    const min = LEVELS.indexOf(c.level_at_least);
    const fixed = source.statics.get('level');
    if (fixed !== undefined) return new Const(staticLevelRank(fixed) >= min);
    const level = new FieldReader('level', source);
    const severity = new FieldReader('severity', source);
    if (!level.possible && !severity.possible) return new Const(false);
    return new LevelAtLeast(
      level.possible ? level : null,
      severity.possible ? severity : null,
      min,
    );
  }
  const field = c.field as string;
  const fixed = source.statics.get(field);
  if (fixed !== undefined) return new Const(testStatic(c, fixed));
  const r = new FieldReader(field, source);
  if (!r.possible) return new Const(false);
  if (c.equals !== undefined) {
    if (typeof c.equals === 'number') return new EqualsNumber(r, c.equals);
    if (typeof c.equals === 'boolean') return new EqualsBool(r, c.equals);
    return new EqualsText(r, c.equals);
  }
  if (c.prefix !== undefined) return new Prefix(r, c.prefix);
  if (c.contains !== undefined) return new Contains(r, c.contains);
  if (c.in !== undefined) return new In(r, c.in);
  const lo = c.gt ?? c.gte ?? -Infinity;
  const hi = c.lt ?? c.lte ?? Infinity;
  return new Range(r, lo, c.gt !== undefined, hi, c.lt !== undefined);
}

/** all (every = true) / any of parts, with constants folded away. */
function fold(parts: Cond[], every: boolean): Cond {
  const live: Cond[] = [];
  for (const p of parts) {
    if (p instanceof Const) {
      if (p.value !== every) return new Const(!every); // all: one false; any: one true
    } else live.push(p);
  }
  if (live.length === 0) return new Const(every);
  if (live.length === 1) return live[0];
  return every ? new All(live) : new Any(live);
}

/** A leaf against a static field's value: the same rules as on line bytes, in plain JS. */
function testStatic(c: ConditionConfig, v: FieldValue): boolean {
  const text = String(v);
  const num = typeof v === 'number' ? v : typeof v === 'string' ? numberOfText(v) : NaN;
  const eq = (want: FieldValue): boolean => {
    if (typeof want === 'number') return num === want;
    if (typeof want === 'boolean') return v === want;
    return text === want;
  };
  if (c.equals !== undefined) return eq(c.equals);
  if (c.prefix !== undefined) return typeof v !== 'boolean' && text.startsWith(c.prefix);
  if (c.contains !== undefined) return typeof v !== 'boolean' && text.includes(c.contains);
  if (c.in !== undefined) return c.in.some(eq);
  if (num !== num) return false;
  if (c.gt !== undefined && !(num > c.gt)) return false;
  if (c.gte !== undefined && !(num >= c.gte)) return false;
  if (c.lt !== undefined && !(num < c.lt)) return false;
  if (c.lte !== undefined && !(num <= c.lte)) return false;
  return true;
}

function numberOfText(s: string): number {
  const b = Buffer.from(s, 'utf8');
  return numberAt(b, 0, b.length);
}

function staticLevelRank(v: FieldValue): number {
  if (typeof v === 'number') return numericLevelRank(v);
  if (typeof v !== 'string') return -1;
  const b = Buffer.from(v, 'utf8');
  return levelRank(b, 0, b.length);
}
