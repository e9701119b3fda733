// The file tailer engine's public face: follow files named by globs, get whole lines with the
// identity and offset to checkpoint. No knowledge of config or pipeline types.

export { Tailer } from './tailer.js';
export type { LinesHandler, Position, Positions, TailerOptions, TailerStats } from './tailer.js';
export { fingerprint, inodeKey, checksumKey, FINGERPRINT_BYTES } from './fingerprint.js';
export type { FingerprintMode, Identity } from './fingerprint.js';
