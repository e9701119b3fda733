// Loads a YAML config: parses it with positions, validates the nodes against the schema, and turns
// every problem (bad YAML, unknown key, wrong type, unset ${VAR}) into a ConfigError with line:col.

import { readFile } from 'node:fs/promises';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { ConfigError } from '../errors.js';
import { decodeRoot } from './schema.js';
import { agentSchema } from './top.js';
import type { AgentConfig } from './types.js';

export async function loadConfigFile(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'config file not found'
        : code === 'EISDIR'
          ? 'config path is a directory, not a file'
          : code === 'EACCES'
            ? 'config file is not readable (permission denied)'
            : `cannot read config file (${code ?? String(err)})`;
    throw new ConfigError('VES_CONFIG_NOT_FOUND', '', `${why}: ${file}`);
  }
  return parseConfig(text, file, env);
}

/** Validates config text; `file` is only used in messages. */
export function parseConfig(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): AgentConfig {
  const lineCounter = new LineCounter();
  // Duplicate keys are YAML errors here (uniqueKeys), not a silent "last one wins".
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const where = (offset: number) => ({ file, ...lineCounter.linePos(offset) });
  // Only the first YAML error: the ones after it are mostly the parser losing its footing.
  const [bad] = doc.errors;
  if (bad) {
    throw new ConfigError('VES_CONFIG_YAML', '', `invalid YAML: ${bad.message}`, where(bad.pos[0]));
  }
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) {
    const hint = 'it needs at least `sources` and `sinks` (see config/minimal.yaml)';
    throw new ConfigError('VES_CONFIG_INVALID', '', `the config file is empty: ${hint}`, {
      file,
      line: 1,
      col: 1,
    });
  }
  if (!isMap(root)) {
    const got = isScalar(root) ? 'a single value' : 'a list';
    const msg = `the top level must be a map of keys (data_dir, sources, sinks, ...), got ${got}`;
    throw new ConfigError('VES_CONFIG_TYPE', '', msg, where(root.range?.[0] ?? 0));
  }
  return decodeRoot(agentSchema, root, { file, lineCounter, doc, env, issues: [] });
}
