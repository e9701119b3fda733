// Renders docs/configuration.md from the schemas (types, defaults and docs all come from them),
// so the reference cannot drift: test/config/docs.test.ts fails when the file is stale.

import type { Schema } from './schema.js';
import { agentSchema } from './top.js';

const INTRO = `# Configuration reference

<!-- Generated from the schemas by src/config/docs.ts: do not edit by hand. Regenerate with
     UPDATE_DOCS=1 npx vitest run test/config/docs.test.ts -->

The agent reads one YAML file: \`ves-log-collector --config FILE\`; check one with
\`ves-log-collector validate FILE\`. Examples to copy are in [config/](../config/).

- Unknown keys are errors, with a "did you mean" suggestion. Every error names the key path and
  \`file:line:col\`, and carries a code from [errors.md](errors.md).
- A key left out, or written with no value (\`key:\`), takes its default.
- Durations: \`5ms\`, \`1.5s\`, \`2m\`, \`1h\`; a plain number is milliseconds.
- Sizes: \`512KiB\`, \`1MiB\`, \`1GiB\` (1024-based), \`10KB\`, \`10MB\` (1000-based); a plain number
  is bytes.
- \`\${VAR}\` and \`\${VAR:-default}\` expand inside any string value (the default applies when VAR
  is unset or empty); \`$$\` is a literal \`$\`. Expansion runs after YAML parsing, so a value
  can never add keys. An unset variable with no default is an error that names it (never its
  value). Number and boolean keys accept \`\${VAR}\` too. Inside a flow map \`{...}\`, quote it:
  \`{max_events: "\${N}"}\`.
- Relative paths (\`data_dir\`, a file sink's \`path\`) are relative to the working directory,
  not to the config file, as with most tools.
- Source and sink names use letters, digits, \`_\` and \`-\`.
- The seed's flat keys \`watch_path\`, \`batch_size\` and \`ship_url\` are shorthand for the long
  keys they name; using a shorthand and its long key together is an error.
`;

export function renderConfigDocs(): string {
  const removed: string[] = [];
  const out = [INTRO, '## Top level\n', ...table(agentSchema, '', removed)];
  for (const [name, s] of Object.entries(agentSchema.fields ?? {})) {
    // Named maps (sources, sinks) are `<name>`; lists (transforms) are entries `[]`.
    const entry = s.kind.startsWith('list') ? `${name}[]` : `${name}.<name>`;
    for (const [type, v] of Object.entries(s.item?.variants ?? {})) {
      out.push(`\n## \`${entry}\` with \`type: ${type}\`\n\n${v.doc}\n`);
      out.push(...table(v, '', removed, `${entry}.`));
    }
  }
  if (removed.length > 0) {
    out.push('\n## Removed keys\n\nThese fail with a hint (`VES_CONFIG_REMOVED`).\n');
    out.push('| key | instead |', '|---|---|', ...removed);
  }
  return out.join('\n') + '\n';
}

function table(s: Schema<unknown>, prefix: string, removed: string[], where = ''): string[] {
  return [
    '| key | type | default | description |',
    '|---|---|---|---|',
    ...rows(s, prefix, removed, where),
  ];
}

/** One row per key; nested objects (batch, api, rotate) flatten to dotted keys. */
function rows(s: Schema<unknown>, prefix: string, removed: string[], where: string): string[] {
  const out: string[] = [];
  for (const [name, hint] of Object.entries(s.removed ?? {})) {
    removed.push(`| \`${where}${prefix}${name}\` | ${cell(hint)} |`);
  }
  for (const [name, f] of Object.entries(s.fields ?? {})) {
    const key = prefix + name;
    const def = !f.fallback ? '**required**' : f.defaultText ? `\`${f.defaultText}\`` : '';
    const more = f.item?.variants ? ' See below.' : '';
    out.push(`| \`${key}\` | ${cell(f.kind)} | ${cell(def)} | ${cell(f.doc + more)} |`);
    if (f.fields) out.push(...rows(f, `${key}.`, removed, where));
  }
  return out;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}
