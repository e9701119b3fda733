// Config schema of the `file` source: which files to tail, where to start, how to read them.
// Its defaults are the only ones; build() in ./source.ts receives the decoded FileSourceConfig.

import picomatch from 'picomatch';
import {
  array,
  type At,
  bytes,
  duration,
  object,
  oneOf,
  refine,
  string,
  type Schema,
} from '../../config/schema.js';
import type { FileSourceConfig } from '../../config/types.js';
import {
  checkParser,
  keepMessage,
  maxLineBytes,
  multiline,
  parser,
  staticFields,
  templates,
} from '../shared-config.js';

/**
 * picomatch turns a glob it cannot compile (`{a,b.log`, `[z-a]`) into a regex that matches
 * nothing, silently: compiling with `debug: true` here makes that a config error instead.
 */
function checkGlob(g: string): string | undefined {
  try {
    picomatch.makeRe(g, { debug: true });
    return undefined;
  } catch (err) {
    const why = (err as Error).message;
    const hint = /Unterminated group/.test(why)
      ? 'an unclosed `{` or `(`'
      : /Range out of order/.test(why)
        ? 'a `[x-y]` range out of order'
        : why;
    return `not a valid glob (it could never match a file): ${hint}`;
  }
}

const glob = string({ doc: 'A glob pattern (picomatch syntax).', check: checkGlob });

/** `include: []` tails nothing: a mistake, reported with its line:col before anything starts. */
function checkFileSource(config: FileSourceConfig, at: At): FileSourceConfig {
  if (config.include.length === 0) {
    at.child('include').fail(
      'VES_CONFIG_INVALID',
      'names no files: add at least one glob, e.g. /var/log/app/*.log',
    );
  }
  return checkParser(config, at);
}

export const schema: Schema<FileSourceConfig> = refine(
  object(
    {
      type: oneOf(['file'], { doc: 'Tails files matching `include`.' }),
      include: array(glob, {
        single: true,
        doc: 'Glob patterns of files to tail: a list, or one string.',
      }),
      exclude: array(glob, {
        single: true,
        default: [],
        doc: 'Glob patterns skipped even when `include` matches.',
      }),
      read_from: oneOf(['beginning', 'end'], {
        default: 'beginning',
        doc: 'Where to start in a file that has no checkpoint yet.',
      }),
      parser,
      templates,
      keep_message: keepMessage,
      fields: staticFields,
      max_line_bytes: maxLineBytes,
      read_chunk_bytes: bytes({
        default: '256KiB', // big reads: the hot path splits lines over Buffers, not per-line strings
        min: '4KiB', // one page: smaller reads only add syscalls
        max: '64MiB', // bounds the memory one file can pin
        doc: 'Size of one read from a file.',
      }),
      partial_line_timeout: duration({
        default: '1s',
        doc: 'A last line with no newline yet is emitted after this long.',
      }),
      poll_interval: duration({
        default: '250ms',
        min: '10ms', // a faster poll only spins the CPU: file events do the quick work
        doc: 'Safety-net stat poll of open files (events can be missed on some filesystems).',
      }),
      fingerprint: oneOf(['checksum', 'device_and_inode'], {
        default: 'checksum',
        doc: 'How a file is recognised across renames: hash of its first bytes, or device+inode.',
      }),
      idle_timeout: duration({
        default: '5m',
        doc: 'A file with no new data for this long releases its descriptor.',
      }),
      multiline,
    },
    {
      doc: 'Tails files (rotation-safe, checkpointed in data_dir).',
      // Vector's name for it; undici-style hint rather than a bare "unknown key".
      removed: { start_at_beginning: 'use `read_from: beginning` (or `read_from: end`)' },
    },
  ),
  checkFileSource,
);
