// `ves-log-collector validate FILE...`: loads each config exactly as a run would, without
// starting anything. Exit 0 when all are valid, 2 otherwise; each error names key and line:col.

import { loadConfigFile } from '../config/index.js';
import { EXIT_OK, EXIT_USAGE, VesError } from '../errors.js';

export async function validate(files: string[]): Promise<number> {
  let code = EXIT_OK;
  for (const file of files) {
    try {
      const cfg = await loadConfigFile(file);
      const n = (o: object) => Object.keys(o).length;
      process.stdout.write(`ok ${file} (${n(cfg.sources)} sources, ${n(cfg.sinks)} sinks)\n`);
    } catch (err) {
      if (!(err instanceof VesError)) throw err;
      process.stderr.write(`invalid ${err.message} [${err.code}]\n`);
      code = EXIT_USAGE;
    }
  }
  return code;
}
