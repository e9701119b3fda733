// The command line as a user meets it: --version, --help, validate, --watch, stdin, --demo,
// and bad configs that exit 2 naming the key and line:col.
import { appendFile, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runAgent, startAgent, waitFor, useTestDir } from './harness.js';

let dir: string;
useTestDir((d) => (dir = d));

test('--version prints the package version', async () => {
  const pkg = (await import('../../package.json', { with: { type: 'json' } })).default as {
    version: string;
  };
  const r = await runAgent(['--version']);
  expect(r.code).toBe(0);
  expect(r.stdout.trim()).toBe(pkg.version);
});

test('--help shows the commands and examples', async () => {
  const r = await runAgent(['--help']);
  expect(r.code).toBe(0);
  for (const word of ['--config', '--watch', '--demo', 'validate', 'bench', 'Examples:'])
    expect(r.stdout).toContain(word);
});

test('no work to do, or an unknown flag, exits 2 with a hint', async () => {
  const none = await runAgent([]);
  expect(none.code).toBe(2);
  expect(none.stderr).toContain('--config');
  const bad = await runAgent(['--no-such-flag']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('--no-such-flag');
});

test('validate passes every shipped example config', async () => {
  const files = (await readdir('config'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join('config', f));
  expect(files.length).toBeGreaterThan(0);
  // aggregator.yaml reads its token from the environment, with no default (a secret), and
  // transforms.yaml's enrich reads AWS_REGION: validate refuses them unset, as the agent would.
  const env = { VES_TOKEN: 'example-token', AWS_REGION: 'eu-west-1' };
  const r = await runAgent(['validate', ...files], { env });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
});

describe('bad configs exit 2 naming the key and line:col', () => {
  test.each([
    [
      'unknown key',
      'sources:\n  a:\n    type: file\n    include: [x.log]\n    incldue: [y]\nsinks:\n  o: {type: stdout}\n',
      'sources.a.incldue',
      ':5:5',
    ],
    [
      'wrong type',
      'batch:\n  max_events: lots\nsources:\n  a: {type: file, include: [x.log]}\nsinks:\n  o: {type: stdout}\n',
      'batch.max_events',
      ':2:15',
    ],
    [
      'bad enum',
      'sources:\n  a:\n    type: file\n    include: [x.log]\n    read_from: middle\nsinks:\n  o: {type: stdout}\n',
      'sources.a.read_from',
      ':5:16',
    ],
    ['bad YAML', 'sources:\n  a: [unclosed\nsinks: {}\n', '', ':'],
  ])('%s', async (_name, yaml, key, where) => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, yaml);
    for (const args of [
      ['validate', file],
      ['--config', file],
    ]) {
      const r = await runAgent(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(key);
      expect(r.stderr).toContain(`${file}${where}`);
    }
  });

  test('missing file', async () => {
    const r = await runAgent(['--config', join(dir, 'nope.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nope.yaml');
  });
});

test('--watch prints existing and appended lines as NDJSON on stdout', async () => {
  const log = join(dir, 'app.log');
  await writeFile(log, 'one\n');
  const agent = startAgent(['--watch', log], { env: { VES_STATE_DIR: join(dir, 'state') } });
  await waitFor(() => agent.stdout().includes('"one"'), 'first line', 10_000, agent.stderr);
  await appendFile(log, 'two\nthree\n');
  await waitFor(() => agent.stdout().includes('"three"'), 'appended lines', 10_000, agent.stderr);
  agent.proc.kill('SIGTERM');
  expect((await agent.exited).code).toBe(0);
  const events = agent
    .stdout()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { message: string; source: string });
  expect(events.map((e) => e.message)).toEqual(['one', 'two', 'three']);
  expect(events[0].source).toBe(resolve(log));
});

test('stdin config: reads to the end, exits 0 after delivering everything', async () => {
  const cfg = join(dir, 'stdin.yaml');
  const out = join(dir, 'out.ndjson');
  await writeFile(
    cfg,
    `data_dir: ${join(dir, 'data')}\nsources:\n  in: {type: stdin}\nsinks:\n  out: {type: file, path: ${out}}\n`,
  );
  const input = Array.from({ length: 10_000 }, (_, i) => `stdin line ${i}`).join('\n');
  const r = await runAgent(['--config', cfg], { input });
  expect(r.code).toBe(0);
  const lines = (await import('node:fs')).readFileSync(out, 'utf8').trim().split('\n');
  expect(lines).toHaveLength(10_000);
  expect(JSON.parse(lines[9999]).message).toBe('stdin line 9999');
});

test('--demo prints nginx events and a stats line within 3 s', async () => {
  const agent = startAgent(['--demo', '--rate', '500']);
  await waitFor(
    () => agent.stdout().includes('"source"') && /lines\/s/.test(agent.stderr()),
    'events and a stats line',
    5_000,
    agent.stderr,
  );
  agent.proc.kill('SIGINT');
  expect((await agent.exited).code).toBe(0);
  // The demo parses its traffic with the nginx parser: fields, not only the line.
  const first = JSON.parse(agent.stdout().split('\n')[0]) as Record<string, unknown>;
  expect(first.remote_addr).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  expect(typeof first.status).toBe('number');
});

test('stdout closed by its reader (like `| head`): exit 1 with VES_SINK_CLOSED, no hang', async () => {
  const log = join(dir, 'app.log');
  await writeFile(log, 'one\n');
  const agent = startAgent(['--watch', log], { env: { VES_STATE_DIR: join(dir, 'state') } });
  await waitFor(() => agent.stdout().includes('"one"'), 'first line', 10_000, agent.stderr);
  agent.proc.stdout!.destroy();
  await appendFile(log, 'two\n'.repeat(10_000));
  const { code } = await agent.exited;
  expect(code).toBe(1);
  expect(agent.stderr()).toContain('VES_SINK_CLOSED');
});
