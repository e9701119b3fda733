// Shared by the config tests: parse a config from text, and assert the exact ConfigError
// (code, key path, line:col) a bad one produces.

import { expect } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import type { AgentConfig } from '../../src/config/types.js';
import { ConfigError } from '../../src/errors.js';

export const FILE = 'agent.yaml';

/** Two lines every test config that is not about sinks can end with. */
export const SINK = 'sinks:\n  out: {type: stdout}\n';

export function parse(text: string, env: NodeJS.ProcessEnv = {}): AgentConfig {
  return parseConfig(text, FILE, env);
}

export interface Expected {
  code: string;
  path: string;
  line?: number;
  col?: number;
  /** A fragment the message must contain. */
  says?: string;
}

/** Runs `fn`, which must throw a ConfigError matching `want`; returns it for more checks. */
export function expectConfigError(fn: () => unknown, want: Expected): ConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  const err = caught as ConfigError;
  expect({ code: err.code, path: err.path }).toEqual({ code: want.code, path: want.path });
  if (want.line !== undefined) {
    expect(err.location).toEqual({ file: FILE, line: want.line, col: want.col });
    expect(err.message.startsWith(`${FILE}:${want.line}:${want.col}: ${want.path}`)).toBe(true);
  }
  if (want.says) expect(err.message).toContain(want.says);
  expect(err.exitCode).toBe(2);
  return err;
}
