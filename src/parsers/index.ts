// The parser registry: a source's `parser:` name -> how to compile it. The config schema takes
// its enum from `parserNames`, so a parser is usable in a config as soon as it is listed here.
// Every parser compiles once per source (templates into byte-level matchers, DESIGN.md "Data
// path") and then runs as a pure function over chunks (./captures.ts, ./stage.ts).

import type { Parser } from './captures.js';
import { ClfParser } from './clf.js';
import { JsonParser } from './json.js';
import { LogfmtParser } from './logfmt.js';
import { SyslogParser } from './syslog.js';
import { compileTemplate } from './template/compile.js';
import { TemplateParser } from './template/matcher.js';

export const parserNames = [
  'raw',
  'json',
  'logfmt',
  'nginx',
  'apache',
  'syslog',
  'template',
] as const;

export type ParserName = (typeof parserNames)[number];

/** Named in the DESIGN but not built yet (none today): the config says so instead of "unknown". */
export const plannedParsers: Record<string, string> = {};

export interface ParserOptions {
  /** `templates:` of the source (parser: template). */
  templates: readonly string[];
  /**
   * Keys the agent writes into every event of this source (source, host, parse_error,
   * truncated, the static `fields`): a key taken from the line (json, logfmt) that equals one
   * gets a `_` prefix instead of making a duplicate key.
   */
  reserved: readonly string[];
  /**
   * The lines are whole events of agents (the http source): their `source`, `host`,
   * `parse_error` and `truncated` are the event's own, not clashes (`reserved` holds the static
   * fields only). The ParseStage then writes none of these itself (StageSettings.forwarded).
   */
  forwarded?: boolean;
  /** Ingest clock (ms since the epoch), for formats without a year (RFC 3164). */
  now?: () => number;
}

export interface ParserEntry {
  /** One line for the docs. */
  doc: string;
  compile(options: ParserOptions): Parser;
}

export const parsers: Record<Exclude<ParserName, 'raw'>, ParserEntry> = {
  json: {
    doc: 'One JSON object per line; its top-level fields become event fields.',
    compile: (o) => new JsonParser(o.reserved, o.forwarded),
  },
  logfmt: {
    doc: '`key=value key2="quoted value" flag` pairs; values stay strings, bare keys are true.',
    compile: (o) => new LogfmtParser(o.reserved, o.forwarded),
  },
  nginx: {
    doc: 'nginx access logs: combined, common, and the stock `main` format.',
    compile: () => new ClfParser('nginx'),
  },
  apache: {
    doc: 'Apache access logs: common and combined.',
    compile: () => new ClfParser('apache'),
  },
  syslog: {
    doc: 'RFC 5424 and RFC 3164 syslog lines, with or without <PRI>.',
    compile: (o) => new SyslogParser(o.now),
  },
  template: {
    doc: 'Your own formats: `templates: [...]`, e.g. `{ip} [{time:timestamp}] {status:int}`.',
    compile: (o) => {
      const p = new TemplateParser(o.templates.map((t) => compileTemplate(t)));
      if (o.now) p.now = o.now;
      return p;
    },
  },
};

/** The compiled parser of a source, or null for `raw` (the raw encoder needs none). */
export function compileParser(name: string, options: ParserOptions): Parser | null {
  if (name === 'raw') return null;
  const entry = (parsers as Record<string, ParserEntry | undefined>)[name];
  if (!entry) throw new Error(`bug: parser ${name} is not registered`);
  return entry.compile(options);
}
