// The template language: `{name}` or `{name:type}` fields between literal text, compiled once
// (config time) into steps a byte-level matcher runs (./matcher.ts). No regex, at compile time
// or per line.
//
//   '{remote_addr} - {remote_user} [{time_local}] "{request}" {status:int} {bytes:int}'
//     -> CAP remote_addr, LIT " - ", CAP remote_user, LIT " [", CAP time_local, LIT "] \"", ...
//
// Types: string (default), int, float, timestamp. `{{` and `}}` are literal braces; `{_}` matches
// a field and drops it. Every problem is a TemplateError with the index it points at.

import { suggest } from '../../config/suggest.js';
import { AGENT_KEYS } from '../keys.js';

export const CT_STRING = 0;
export const CT_INT = 1;
export const CT_FLOAT = 2;
export const CT_TIME = 3;

const TYPES: Record<string, number> = {
  string: CT_STRING,
  int: CT_INT,
  float: CT_FLOAT,
  timestamp: CT_TIME,
};

export type Step =
  { kind: 'lit'; bytes: Buffer } | { kind: 'cap'; name: string; type: number; at: number };

export interface CompiledTemplate {
  text: string;
  steps: Step[];
  /** Field names in order, without `_` (dropped) fields. */
  fields: string[];
}

/** A template that does not compile: `index` is the character the message is about. */
export class TemplateError extends Error {
  override name = 'TemplateError';
  constructor(
    readonly reason: string,
    readonly index: number,
    readonly text: string,
  ) {
    super(`${reason} (column ${index + 1})\n    ${text}\n    ${' '.repeat(index)}^`);
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.@-]*$/;

export function compileTemplate(text: string): CompiledTemplate {
  if (text === '') throw new TemplateError('the template is empty', 0, text);
  const nl = text.search(/[\r\n]/);
  if (nl >= 0) {
    throw new TemplateError('a template matches one line: it cannot hold a line break', nl, text);
  }
  const steps: Step[] = [];
  const fields: string[] = [];
  const seen = new Set<string>();
  let lit = '';
  const flush = () => {
    if (lit !== '') steps.push({ kind: 'lit', bytes: Buffer.from(lit, 'utf8') });
    lit = '';
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '{' && text[i + 1] === '{') {
      lit += '{';
      i += 2;
      continue;
    }
    if (c === '}') {
      if (text[i + 1] === '}') {
        lit += '}';
        i += 2;
        continue;
      }
      throw new TemplateError('a lone `}`: write `}}` for a literal brace', i, text);
    }
    if (c !== '{') {
      lit += c;
      i++;
      continue;
    }
    // a field
    const close = text.indexOf('}', i + 1);
    const open = text.indexOf('{', i + 1);
    if (close < 0 || (open >= 0 && open < close)) {
      throw new TemplateError('unclosed `{`: write `{{` for a literal brace', i, text);
    }
    const body = text.slice(i + 1, close);
    const colon = body.indexOf(':');
    const name = colon < 0 ? body : body.slice(0, colon);
    const typeName = colon < 0 ? 'string' : body.slice(colon + 1);
    if (name === '') throw new TemplateError('a field needs a name, e.g. {status:int}', i, text);
    if (!NAME.test(name)) {
      throw new TemplateError(
        `field name \`${name}\`: use letters, digits, _ . @ and - (starting with a letter or _)`,
        i + 1,
        text,
      );
    }
    const type = TYPES[typeName];
    if (type === undefined) {
      const hint = suggest(typeName, Object.keys(TYPES));
      throw new TemplateError(
        `unknown type \`${typeName}\`: use string, int, float or timestamp${hint}`,
        i + 1 + colon + 1,
        text,
      );
    }
    if (lit === '' && steps.length > 0) {
      throw new TemplateError(
        'two fields in a row: put literal text between them (e.g. `{a} {b}`), or the matcher cannot tell where one ends',
        i,
        text,
      );
    }
    if (name === 'timestamp') {
      throw new TemplateError(
        'the event `timestamp` is taken from a field of type timestamp: name this one differently, e.g. {time:timestamp}',
        i + 1,
        text,
      );
    }
    if (AGENT_KEYS.includes(name)) {
      throw new TemplateError(
        `\`${name}\` is a field every event gets from the agent: name this one differently`,
        i + 1,
        text,
      );
    }
    if (name === 'message' && type !== CT_STRING) {
      throw new TemplateError('`message` is the event text: it can only be a string', i + 1, text);
    }
    if (name !== '_') {
      if (seen.has(name)) {
        throw new TemplateError(`field \`${name}\` appears twice`, i + 1, text);
      }
      seen.add(name);
      fields.push(name);
    }
    flush();
    steps.push({ kind: 'cap', name, type, at: i });
    i = close + 1;
  }
  flush();
  if (!steps.some((s) => s.kind === 'cap')) {
    throw new TemplateError(
      'no {field} in the template: it would parse nothing (use parser: raw to keep lines as they are)',
      0,
      text,
    );
  }
  return { text, steps, fields };
}
