// Units live in the config's values (`5ms`, `1MiB`), never in plain numbers a reader must guess;
// these turn them into milliseconds and bytes. Shared by the schema and the CLI's flags.

const DURATION_MS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, '': 1 };
const SIZE_BYTES: Record<string, number> = {
  ...{ B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, '': 1 },
  ...{ KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 },
};

/** `5ms`, `1.5s`, `2m`, `1h` or a plain number of milliseconds; undefined if not one. */
export function durationMs(text: string | number): number | undefined {
  const ms = withUnit(text, DURATION_MS);
  return ms === undefined ? undefined : Math.round(ms * 1e3) / 1e3; // 1.1s is 1100, not 1100.0000000000002
}

/** `512KiB`, `1MiB`, `10MB` or a plain number of bytes; undefined if not a whole number of bytes. */
export function sizeBytes(text: string | number): number | undefined {
  const b = withUnit(text, SIZE_BYTES);
  if (b === undefined || Math.abs(b - Math.round(b)) > 1e-6) return undefined;
  return Math.round(b);
}

function withUnit(text: string | number, units: Record<string, number>): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) ? text : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(text);
  const factor = m ? units[m[2]] : undefined;
  return m && factor !== undefined ? Number(m[1]) * factor : undefined;
}
