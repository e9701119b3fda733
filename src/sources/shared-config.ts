// Config fields every line source shares (parser, templates, static fields, line length bound), defined
// once so file and stdin sources cannot drift apart in defaults or docs.

import {
  array,
  type At,
  bool,
  bytes,
  custom,
  duration,
  fields,
  nullable,
  object,
  oneOf,
  optional,
  refine,
  string,
  type Schema,
} from '../config/schema.js';
import type { FieldValue, MultilineConfig } from '../config/types.js';
import { compileParser, type ParserName, parserNames, plannedParsers } from '../parsers/index.js';
import { AGENT_KEYS } from '../parsers/keys.js';
import { compileTemplate, TemplateError } from '../parsers/template/compile.js';

/** The `parser` key, defaulting to `def` (raw for lines of files; syslog for the syslog source). */
export function parserKey(def: ParserName) {
  return oneOf(parserNames, {
    default: def,
    planned: plannedParsers,
    doc: 'How a line becomes an event: raw keeps it as `message`; json, logfmt, nginx, apache and syslog also lift its fields; template uses `templates` (docs/parsers.md).',
  });
}

export const parser = parserKey('raw');

/** One `templates:` entry: compiled here, so a bad one is reported at its line:col. */
const template = custom(
  'template',
  'A line format, e.g. `{remote_addr} [{time:timestamp}] "{request}" {status:int}`.',
  undefined,
  (at: At): string => {
    const text = string({ doc: '' }).decode(at);
    try {
      compileTemplate(text);
    } catch (err) {
      if (err instanceof TemplateError) at.fail('VES_CONFIG_TYPE', `bad template: ${err.message}`);
      throw err;
    }
    return text;
  },
);

export const templates = array(template, {
  single: true,
  default: [],
  doc: 'parser: template only. Line formats tried in turn (the last one that matched first): `{name}` or `{name:int|float|timestamp}` fields between literal text (docs/parsers.md).',
});

export const keepMessage = bool({
  default: false, // the fields already hold the line: keeping it too doubles an event's size
  doc: 'Also keep the whole line as `message` when the parsed fields hold all of it (nginx, apache, a template without {message}, json/logfmt without a message key). Lines a parser cannot read, or whose text it does not all map, always keep it.',
});

/**
 * Rules across a source's parser keys: `templates` goes with `parser: template` (and it needs
 * some); a static field may not reuse a field name the parser writes (it would be a duplicate
 * JSON key).
 */
export function checkParser<
  C extends { parser: string; fields: Record<string, FieldValue>; templates?: string[] },
>(config: C, at: At): C {
  const list = config.templates ?? [];
  if (config.parser === 'template' && list.length === 0) {
    at.child('templates').fail(
      'VES_CONFIG_MISSING',
      'is required with parser: template: list one or more line formats',
      true,
    );
  }
  if (config.parser !== 'template' && list.length > 0) {
    at.child('templates').fail(
      'VES_CONFIG_INVALID',
      `is only used with parser: template (this source has parser: ${config.parser}); remove it`,
      true,
    );
  }
  const compiled = compileParser(config.parser, { templates: list, reserved: [] });
  const names = compiled?.fieldNames ?? [];
  for (const name of Object.keys(config.fields)) {
    // Checked here, not only by the encoder at start-up, so the message has line:col and
    // nothing (data_dir, sinks) is created for a config that cannot run.
    if (BUILTIN_FIELDS.has(name)) {
      const hint = name === 'host' ? 'set the top-level `host` key instead' : 'rename it';
      at.child('fields')
        .child(name)
        .fail('VES_CONFIG_INVALID', `"${name}" is a built-in event field; ${hint}`, true);
    }
    if (names.includes(name)) {
      at.child('fields')
        .child(name)
        .fail(
          'VES_CONFIG_INVALID',
          `the ${config.parser} parser writes a field \`${name}\` too; rename the static field`,
          true,
        );
    }
  }
  return config;
}

/** Keys the agent writes into every event itself: a static field may not reuse them. */
const BUILTIN_FIELDS = new Set(['message', 'timestamp', ...AGENT_KEYS]);

export const staticFields = fields({
  doc: 'Static fields added to every event, e.g. {service: web}.',
});

export const maxLineBytes = bytes({
  default: '256KiB', // bounds the memory one runaway line (a binary file, a missing \n) can take
  min: 1,
  doc: 'Longer lines are cut here and flagged `truncated`.',
});

/**
 * 256 bytes: what a start_pattern sees of each line. A timestamp or a level at the start of a
 * line is well within it, and it bounds the string made per line (the one cost of a pattern).
 */
export const MULTILINE_PATTERN_BYTES = 256;

const multilineShape = object(
  {
    mode: oneOf(['indented', 'start_prefix', 'start_pattern'], {
      doc: 'Which lines start an event. `indented`: a line beginning with a space or tab continues the event before it (Java `\\tat ...` frames); `start_prefix`: a line beginning with `prefix` starts one; `start_pattern`: a line whose first 256 bytes match `pattern` starts one (costs a short string and a regex test per line; the other modes are byte checks). Other lines continue the event before.',
    }),
    prefix: optional(string({ doc: 'start_prefix: the literal text that starts an event.' })),
    pattern: optional(
      string({
        doc: 'start_pattern: a JavaScript regular expression, compiled once, e.g. `^\\d{4}-\\d\\d-\\d\\d`.',
        check: (p) => {
          try {
            new RegExp(p);
            return undefined;
          } catch (err) {
            return `not a valid regular expression: ${(err as Error).message}`;
          }
        },
      }),
    ),
    timeout: duration({
      default: '1s', // the partial_line_timeout of files: a trace is written within milliseconds
      doc: 'The last event waits this long for more continuation lines before it is emitted.',
    }),
    max_bytes: bytes({
      default: '1MiB', // a deep stack trace is ~100 KiB; bounds what one file holds back
      min: 1,
      doc: 'A longer event is cut here and flagged `truncated`; its further lines are dropped.',
    }),
  },
  { doc: 'Joins continuation lines into one event.' },
);

export const multiline: Schema<MultilineConfig | null> = nullable(
  refine(multilineShape, (m, at): MultilineConfig => {
    if (m.mode === 'start_prefix' && m.prefix === undefined) {
      at.child('prefix').fail('VES_CONFIG_MISSING', 'is required with mode: start_prefix', true);
    }
    if (m.mode === 'start_pattern' && m.pattern === undefined) {
      at.child('pattern').fail('VES_CONFIG_MISSING', 'is required with mode: start_pattern', true);
    }
    const stray =
      m.mode === 'start_pattern' ? 'prefix' : m.mode === 'start_prefix' ? 'pattern' : null;
    for (const key of m.mode === 'indented' ? ['prefix', 'pattern'] : [stray]) {
      if (key !== null && m[key as 'prefix' | 'pattern'] !== undefined) {
        at.child(key).fail(
          'VES_CONFIG_INVALID',
          `is not used with mode: ${m.mode}; remove it`,
          true,
        );
      }
    }
    const out: MultilineConfig = { mode: m.mode, timeout: m.timeout, max_bytes: m.max_bytes };
    if (m.prefix !== undefined) out.prefix = m.prefix;
    if (m.pattern !== undefined) out.pattern = m.pattern;
    return out;
  }),
);
