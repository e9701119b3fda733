// Broken configs through the built binary (`--config`): each one exits 2 with a message that
// names the key path and file:line:col, and starts nothing: no data_dir, no output file, no
// admin API listener, nothing on stdout. (test/config/ checks the loader's messages in-process;
// this checks what a user running the agent sees, including checks made at start-up.)
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { runAgent, tempDir } from '../e2e/harness.js';

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir: root, cleanup } = await tempDir('ves-rel-badcfg-')));
afterAll(async () => cleanup());

// Every case starts from these lines (a valid agent with the admin API on), so a config that
// got half-way would leave a data_dir, an output file or a listening API behind. `$D` is the
// case's own temp dir. Lines: 1 data_dir, 2-5 sources, 6-9 sinks, 10 api.
const DATA = 'data_dir: $D/data\n';
const SOURCES = 'sources:\n  app:\n    type: file\n    include: [$D/in/*.log]\n';
const SINKS = 'sinks:\n  out:\n    type: file\n    path: $D/out/out.ndjson\n';
const API = 'api: {enabled: true, address: "127.0.0.1:0"}\n';
const BASE = DATA + SOURCES + SINKS + API;

interface Case {
  name: string;
  yaml: string;
  /** `<path>` as the message names it ('' for YAML syntax / whole-file problems). */
  path: string;
  at: `${number}:${number}`;
  /** A fragment of the message (what to do about it). */
  says: string;
  env?: Record<string, string>;
}

const cases: Case[] = [
  // --- YAML itself ---
  { name: 'empty file', yaml: '', path: '', at: '1:1', says: 'the config file is empty' },
  {
    name: 'only a comment',
    yaml: '# nothing yet\n',
    path: '',
    at: '1:1',
    says: 'the config file is empty',
  },
  {
    name: 'YAML syntax: unclosed flow map',
    yaml: DATA + 'sources: {app: {type: file\n' + SINKS,
    path: '',
    at: '3:1',
    says: 'invalid YAML',
  },
  {
    name: 'YAML syntax: tab indentation',
    yaml: DATA + 'sources:\n\tapp: {type: file}\n' + SINKS,
    path: '',
    at: '3:1',
    says: 'Tabs are not allowed',
  },
  {
    name: 'top level is a list',
    yaml: '- sources\n- sinks\n',
    path: '',
    at: '1:1',
    says: 'the top level must be a map',
  },
  {
    name: 'duplicate source names',
    yaml: DATA + SOURCES + '  app:\n    type: stdin\n' + SINKS,
    path: '',
    at: '6:3',
    says: 'Map keys must be unique',
  },
  // --- unknown and removed keys ---
  {
    name: 'unknown top-level key with did-you-mean',
    yaml: DATA + SOURCES + SINKS + 'bacth: {max_events: 10}\n',
    path: 'bacth',
    at: '10:1',
    says: 'did you mean `batch`?',
  },
  {
    name: 'unknown source key with did-you-mean',
    yaml: BASE.replace('    include:', '    incldue: [x]\n    include:'),
    path: 'sources.app.incldue',
    at: '5:5',
    says: 'did you mean `include`?',
  },
  {
    name: 'removed key with its replacement',
    yaml: BASE.replace('    include:', '    start_at_beginning: true\n    include:'),
    path: 'sources.app.start_at_beginning',
    at: '5:5',
    says: 'use `read_from: beginning`',
  },
  {
    name: 'unknown source type with did-you-mean',
    yaml: BASE.replace('type: file\n    include', 'type: fiel\n    include'),
    path: 'sources.app.type',
    at: '4:11',
    says: 'did you mean `file`?',
  },
  {
    name: 'unknown sink type',
    yaml: BASE.replace('type: file\n    path', 'type: kafka\n    path'),
    path: 'sinks.out.type',
    at: '8:11',
    says: 'unknown sink type "kafka"',
  },
  // --- missing required keys ---
  {
    name: 'no sinks at all',
    yaml: DATA + SOURCES,
    path: 'sinks',
    at: '1:1',
    says: 'no sinks',
  },
  {
    name: 'no sources at all',
    yaml: DATA + SINKS,
    path: 'sources',
    at: '1:1',
    says: 'no sources',
  },
  {
    name: 'file source without include',
    yaml: BASE.replace('    include: [$D/in/*.log]\n', ''),
    path: 'sources.app.include',
    at: '3:3',
    says: 'is required',
  },
  {
    name: 'file sink without path',
    yaml: BASE.replace('    path: $D/out/out.ndjson\n', ''),
    path: 'sinks.out.path',
    at: '7:3',
    says: 'is required',
  },
  {
    name: 'empty include list (was a start-up error)',
    yaml: BASE.replace('[$D/in/*.log]', '[]'),
    path: 'sources.app.include',
    at: '5:14',
    says: 'names no files',
  },
  {
    name: 'basic auth without password',
    yaml:
      DATA +
      SOURCES +
      'sinks:\n  up:\n    type: http\n    uri: http://127.0.0.1:9/x\n    auth: {strategy: basic, user: u}\n',
    path: 'sinks.up.auth.password',
    at: '10:5',
    says: 'is required',
  },
  // --- types ---
  {
    name: 'a word where a number goes',
    yaml: BASE + 'batch: {max_events: many}\n',
    path: 'batch.max_events',
    at: '11:21',
    says: 'expected a whole number, got "many"',
  },
  {
    name: 'a map where a list goes',
    yaml: BASE.replace('[$D/in/*.log]', '{a: 1}'),
    path: 'sources.app.include',
    at: '5:14',
    says: 'expected a list',
  },
  {
    name: 'yes is not a boolean (YAML 1.2)',
    yaml: BASE.replace('enabled: true', 'enabled: yes'),
    path: 'api.enabled',
    at: '10:16',
    says: 'expected true or false, got "yes"',
  },
  {
    name: 'nested map in static fields',
    yaml: BASE.replace('    include:', '    fields: {svc: {name: web}}\n    include:'),
    path: 'sources.app.fields.svc',
    at: '5:19',
    says: 'expected a string, number or boolean',
  },
  {
    name: 'invalid component name',
    yaml: BASE.replace('  out:\n', '  "my out":\n'),
    path: 'sinks.my out',
    at: '7:3',
    says: 'not a valid sink name',
  },
  // --- enums, units, ranges ---
  {
    name: 'unknown parser with did-you-mean',
    yaml: BASE.replace('    include:', '    parser: ngnix\n    include:'),
    path: 'sources.app.parser',
    at: '5:13',
    says: 'did you mean `nginx`?',
  },
  {
    name: 'read_from not one of beginning|end',
    yaml: BASE.replace('    include:', '    read_from: middle\n    include:'),
    path: 'sources.app.read_from',
    at: '5:16',
    says: 'expected one of beginning | end',
  },
  {
    name: 'bad duration unit',
    yaml: BASE + 'batch: {timeout: 5 parsecs}\n',
    path: 'batch.timeout',
    at: '11:18',
    says: 'expected a duration like 5ms',
  },
  {
    name: 'bad size unit',
    yaml: BASE + 'batch: {max_bytes: 1XB}\n',
    path: 'batch.max_bytes',
    at: '11:20',
    says: 'expected a size like 512KiB',
  },
  {
    name: 'number below its minimum',
    yaml: BASE + 'batch: {max_events: 0}\n',
    path: 'batch.max_events',
    at: '11:21',
    says: 'must be at least 1',
  },
  {
    name: 'size below its minimum',
    yaml: BASE.replace(
      '    path: $D/out/out.ndjson\n',
      '    path: $D/out/out.ndjson\n    rotate: {max_bytes: 10}\n',
    ),
    path: 'sinks.out.rotate.max_bytes',
    at: '10:25',
    says: 'must be at least 1KiB',
  },
  {
    name: 'workers above the maximum',
    yaml: BASE + 'workers: 100\n',
    path: 'workers',
    at: '11:10',
    says: 'must be at most 64',
  },
  // --- globs, URLs, addresses, regexes, templates ---
  {
    name: 'glob with an unclosed brace',
    yaml: BASE.replace('[$D/in/*.log]', '["$D/in/{a,b.log"]'),
    path: 'sources.app.include[0]',
    at: '5:15',
    says: 'not a valid glob',
  },
  {
    name: 'glob with a reversed range',
    yaml: BASE.replace('[$D/in/*.log]', '["$D/in/[z-a].log"]'),
    path: 'sources.app.include[0]',
    at: '5:15',
    says: 'out of order',
  },
  {
    name: 'http uri that is not a URL',
    yaml: DATA + SOURCES + 'sinks:\n  up:\n    type: http\n    uri: not a url\n',
    path: 'sinks.up.uri',
    at: '9:10',
    says: 'expected a URL',
  },
  {
    name: 'http uri with another scheme',
    yaml: DATA + SOURCES + 'sinks:\n  up:\n    type: http\n    uri: ftp://example.com/x\n',
    path: 'sinks.up.uri',
    at: '9:10',
    says: 'expected an http:// or https:// URL',
  },
  {
    name: 'http uri with credentials in it',
    yaml: DATA + SOURCES + 'sinks:\n  up:\n    type: http\n    uri: https://u:p@example.com/x\n',
    path: 'sinks.up.uri',
    at: '9:10',
    says: 'must not carry a user or password',
  },
  {
    name: 'api address without a port',
    yaml: BASE.replace('127.0.0.1:0', '127.0.0.1'),
    path: 'api.address',
    at: '10:31',
    says: 'expected host:port',
  },
  {
    name: 'api port out of range',
    yaml: BASE.replace('127.0.0.1:0', '127.0.0.1:70000'),
    path: 'api.address',
    at: '10:31',
    says: 'out of range',
  },
  {
    name: 'api host that is not a host name (was a listen error, exit 1)',
    yaml: BASE.replace('127.0.0.1:0', 'not a host!:8686'),
    path: 'api.address',
    at: '10:31',
    says: 'is not an IP address or host name',
  },
  {
    name: 'invalid regex in multiline pattern',
    yaml: BASE.replace(
      '    include:',
      '    multiline: {mode: start_pattern, pattern: "(unclosed"}\n    include:',
    ),
    path: 'sources.app.multiline.pattern',
    at: '5:47',
    says: 'not a valid regular expression',
  },
  {
    name: 'template with an unclosed field',
    yaml: BASE.replace(
      '    include:',
      '    parser: template\n    templates: ["{ip} {status:int"]\n    include:',
    ),
    path: 'sources.app.templates[0]',
    at: '6:17',
    says: 'bad template',
  },
  {
    name: 'template parser without templates',
    yaml: BASE.replace('    include:', '    parser: template\n    include:'),
    path: 'sources.app.templates',
    at: '3:3',
    says: 'is required with parser: template',
  },
  // --- cross-field rules and duplicates ---
  {
    name: 'duplicate transform names',
    yaml:
      BASE +
      'transforms:\n  - {type: sample, name: s, rate: 2}\n  - {type: sample, name: s, rate: 3}\n',
    path: 'transforms[1].name',
    at: '13:20',
    says: 'is the name of transforms[0] too',
  },
  {
    name: 'transform naming a source that does not exist',
    yaml: BASE + 'transforms:\n  - {type: sample, sources: [ap], rate: 2}\n',
    path: 'transforms[0].sources[0]',
    at: '12:30',
    says: 'no source is named "ap"',
  },
  {
    name: 'static field reusing a built-in key (was a start-up error)',
    yaml: BASE.replace('    include:', '    fields: {host: web1}\n    include:'),
    path: 'sources.app.fields.host',
    at: '5:14',
    says: 'set the top-level `host` key instead',
  },
  {
    name: 'enrich field the parser writes too (was a start-up error)',
    yaml:
      BASE.replace('    include:', '    parser: nginx\n    include:') +
      'transforms:\n  - {type: enrich, fields: {status: ok}}\n',
    path: 'transforms[0].fields.status',
    at: '13:29',
    says: 'writes a field "status" too',
  },
  {
    name: 'shorthand and long form both set',
    yaml: BASE.replace('sources:\n  app:', 'watch_path: /x/*.log\nsources:\n  main:'),
    path: 'watch_path',
    at: '2:1',
    says: 'is shorthand for `sources.main`',
  },
  {
    name: 'reserved HTTP header',
    yaml:
      DATA +
      SOURCES +
      'sinks:\n  up:\n    type: http\n    uri: http://127.0.0.1:9/x\n    headers: {Content-Length: 5}\n',
    path: 'sinks.up.headers.Content-Length',
    at: '10:15',
    says: 'it is computed per request',
  },
  // --- environment interpolation ---
  {
    name: 'unset ${VAR}',
    yaml: BASE.replace('$D/out/out.ndjson', '$D/out/${VES_REL_SURELY_UNSET}.ndjson'),
    path: 'sinks.out.path',
    at: '9:11',
    says: 'environment variable VES_REL_SURELY_UNSET is not set',
  },
  {
    name: 'unterminated ${',
    yaml: BASE.replace('$D/out/out.ndjson', '"$D/out/${OOPS.ndjson"'),
    path: 'sinks.out.path',
    at: '9:11',
    says: 'unterminated',
  },
  {
    name: '${...} that is not a variable name',
    yaml: BASE.replace('$D/out/out.ndjson', '"$D/out/${1-bad}.ndjson"'),
    path: 'sinks.out.path',
    at: '9:11',
    says: 'is not a variable reference',
  },
  {
    name: '${VAR} that is not a number where one goes',
    yaml: BASE + 'batch: {max_events: "${VES_REL_EVENTS}"}\n',
    env: { VES_REL_EVENTS: 'ten' },
    path: 'batch.max_events',
    at: '11:21',
    says: '(value not shown)',
  },
  {
    name: 'enrich env variable unset (was a start-up error)',
    yaml: BASE + 'transforms:\n  - {type: enrich, env: {region: VES_REL_SURELY_UNSET}}\n',
    path: 'transforms[0].env.region',
    at: '12:34',
    says: 'environment variable VES_REL_SURELY_UNSET is not set',
  },
];

test('the table has at least 30 broken configs', () => {
  expect(cases.length).toBeGreaterThanOrEqual(30);
});

let n = 0;
test.concurrent.each(cases)('$name: exit 2, names $path at $at, starts nothing', async (c) => {
  const dir = join(root, `case-${n++}`);
  const file = join(dir, 'agent.yaml');
  await (await import('node:fs/promises')).mkdir(dir);
  await writeFile(file, c.yaml.replaceAll('$D', dir));
  const r = await runAgent(['--config', file], { env: c.env });
  const where = `${file}:${c.at}: ${c.path ? `${c.path}: ` : ''}`;
  const context = `stderr: ${r.stderr}`;
  expect(r.code, context).toBe(2);
  expect(r.stderr, context).toContain(where);
  expect(r.stderr, context).toContain(c.says);
  expect(r.stderr, context).toMatch(/\[VES_CONFIG_[A-Z_]+\]/);
  // Nothing started: no data_dir (checkpoints, lock), no output, no API, no log of a start.
  expect(existsSync(join(dir, 'data')), 'data_dir was created').toBe(false);
  expect(existsSync(join(dir, 'out')), 'the sink output was created').toBe(false);
  expect(r.stdout).toBe('');
  expect(r.stderr).not.toMatch(/admin API listening|started/);
});
