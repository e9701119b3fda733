// The parser registry: the names a source's `parser:` may take. The config schema takes its
// enum from here, so a parser is usable in a config as soon as it is listed.

/**
 * Parsers available now. json, logfmt, nginx, apache, syslog and template (compiled byte-level
 * matchers, DESIGN.md "Data path") arrive with the fast-path issue and join this list then.
 */
export const parserNames = ['raw'] as const;

export type ParserName = (typeof parserNames)[number];

/** Named in the DESIGN but not built yet: the config says so instead of "unknown parser". */
export const plannedParsers: Record<string, string> = Object.fromEntries(
  ['json', 'logfmt', 'nginx', 'apache', 'syslog', 'template'].map((name) => [
    name,
    `the ${name} parser arrives with the fast-path release; use parser: raw meanwhile`,
  ]),
);
