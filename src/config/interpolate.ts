// `${VAR}`, `${VAR:-default}` and `$$` inside one scalar string of the config. Runs per value
// after YAML parsing, so an environment value can never add keys or structure to the document.

/** Variable names as POSIX shells accept them. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Expands references in `text`. `fail` reports a problem (the caller adds key path and
 * line:col); messages name the variable, never its value: it may be a secret.
 *
 * `${VAR:-default}` follows the shell: the default is used when VAR is unset *or empty*.
 * Defaults are literal text (no nested `${}`) and cannot contain `}`.
 */
export function interpolate(
  text: string,
  env: NodeJS.ProcessEnv,
  fail: (message: string) => never,
): string {
  if (!text.includes('$')) return text; // the common case: nothing to scan
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar === -1) break;
    out += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
      continue;
    }
    if (next !== '{') {
      out += '$'; // a lone `$` (e.g. in a regex or a price) stays as written
      i = dollar + 1;
      continue;
    }
    const close = text.indexOf('}', dollar + 2);
    if (close === -1) {
      fail('unterminated `${`: close it with `}`, or write `$$` for a literal `$`');
    }
    const inner = text.slice(dollar + 2, close);
    const sep = inner.indexOf(':-');
    const name = sep === -1 ? inner : inner.slice(0, sep);
    if (!NAME.test(name)) {
      fail(`\`\${${inner}}\` is not a variable reference: names use letters, digits and _`);
    }
    const value = env[name];
    if (sep !== -1 && (value === undefined || value === '')) {
      out += inner.slice(sep + 2);
    } else if (value === undefined) {
      fail(`environment variable ${name} is not set (set it, or write \${${name}:-default})`);
    } else {
      out += value;
    }
    i = close + 1;
  }
  return out + text.slice(i);
}
