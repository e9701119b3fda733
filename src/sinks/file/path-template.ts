// File sink paths built from event fields: `path: /var/log/out/{service}/{host}.ndjson`
// (Vector's `path: /var/log/{{ service }}.log`). Values are sanitised so that an event can never
// choose where outside the template's static directory its line is written.
//
//   /var/log/out/app-{service}/{host}.ndjson
//   '--- base ---'                               the static directory before the first `{`
//
// A value loses what could climb or split a path: `/`, `\`, NUL and control characters become
// `_`, any run of dots of two or more becomes as many `_` (no `..`), a value of `.` or nothing
// (or a missing field) becomes `_`, and it is cut at MAX_VALUE_CHARS. The rendered path is then
// checked to resolve inside `base` all the same (defence in depth).

import { dirname, resolve, sep } from 'node:path';

/**
 * 64 UTF-16 units: at most 192 UTF-8 bytes, so a value plus the literal text around it stays
 * under the 255-byte limit of one file name on Linux filesystems (ENAMETOOLONG would make the
 * batch fail again and again).
 */
const MAX_VALUE_CHARS = 64;

/** `{name}` with a field name (dots walk into nested objects: `{kubernetes.pod}`). */
const FIELD = /\{([A-Za-z0-9_@.-]+)\}/g;

export interface PathTemplate {
  /** The absolute static directory every rendered path stays inside. */
  readonly base: string;
  /** Field names, in the order they appear. */
  readonly fields: readonly string[];
  /** The absolute path of the file an event goes to. */
  render(event: Record<string, unknown>): string;
}

/**
 * Compiles `path` (made absolute against `cwd`); null when it has no `{field}` (one fixed file).
 * Throws an Error with a message for the config when braces are used wrongly.
 */
export function compilePathTemplate(path: string, cwd = process.cwd()): PathTemplate | null {
  if (!path.includes('{') && !path.includes('}')) return null;
  const abs = resolve(cwd, path);
  // literals[i] comes before fields[i]; the last literal ends the path.
  const literals: string[] = [];
  const fields: string[] = [];
  let last = 0;
  for (const m of abs.matchAll(FIELD)) {
    literals.push(abs.slice(last, m.index));
    fields.push(m[1]);
    last = m.index + m[0].length;
  }
  literals.push(abs.slice(last));
  if (literals.some((l) => l.includes('{') || l.includes('}'))) {
    throw new Error(
      'braces must enclose a field name ({service}, {kubernetes.pod}: letters, digits, _ @ . -)',
    );
  }
  if (fields.length === 0) return null;
  const first = literals[0];
  // The static directory: everything up to the last `/` before the first field.
  const base = first.endsWith(sep) ? first.slice(0, -1) || sep : dirname(first);
  const inside = base === sep ? sep : base + sep;
  const n = fields.length;
  return {
    base,
    fields,
    render(event: Record<string, unknown>): string {
      let out = literals[0];
      for (let i = 0; i < n; i++) out += sanitize(lookup(event, fields[i])) + literals[i + 1];
      // Sanitised values cannot climb out; if this ever fails, every value becomes `_`.
      const p = resolve(out);
      return p.startsWith(inside) ? p : resolve(literals.join('_'));
    },
  };
}

/** The field's value as text: top-level key first, else a dotted walk; objects and null -> ''. */
function lookup(event: Record<string, unknown>, name: string): string {
  let v: unknown = event[name];
  if (v === undefined && name.includes('.')) {
    v = event;
    for (const part of name.split('.')) {
      v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[part] : undefined;
    }
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return '';
}

/** A value safe as (part of) one path component; see the file header. */
export function sanitize(value: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this removes
  let s = value.replace(/[/\\\x00-\x1f\x7f]/g, '_').replace(/\.{2,}/g, (d) => '_'.repeat(d.length));
  if (s.length > MAX_VALUE_CHARS) {
    // Do not cut a surrogate pair in two (a lone half is not a character).
    const cut = /[\ud800-\udbff]/.test(s[MAX_VALUE_CHARS - 1])
      ? MAX_VALUE_CHARS - 1
      : MAX_VALUE_CHARS;
    s = s.slice(0, cut);
  }
  return s === '' || s === '.' ? '_' : s;
}
