// Parsers through the built binary: a generated nginx access log (`generate`) tailed with
// `parser: nginx` arrives whole, line for line, with status and body_bytes_sent as JSON numbers;
// a template source and its compile error as `validate` reports it.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import {
  fileToFileConfig,
  lineCount,
  readNdjson,
  runAgent,
  startAgent,
  waitFor,
  useTestDir,
} from './harness.js';

let dir: string;
const track = useTestDir((d) => (dir = d));

const LINES = 20_000;

test('parser: nginx, 20,000 generated lines: all arrive in order, whole, numbers as numbers', async () => {
  const log = join(dir, 'access.log');
  const gen = await runAgent(['generate', '--lines', String(LINES), '--out', log]);
  expect(gen.code).toBe(0);
  const lines = readFileSync(log, 'utf8').split('\n').slice(0, -1);
  expect(lines).toHaveLength(LINES);
  const cfg = await fileToFileConfig(dir, [log]);
  const yaml = readFileSync(cfg, 'utf8').replace(
    '    poll_interval: 50ms',
    '    poll_interval: 50ms\n    parser: nginx\n    fields: {service: web}',
  );
  await writeFile(cfg, yaml);
  const out = join(dir, 'out.ndjson');
  const agent = startAgent(['--config', cfg]);
  track(agent);
  await waitFor(
    () => lineCount(out) >= LINES,
    `${LINES} events`,
    30_000,
    () => `${lineCount(out)}; ${agent.stderr()}`,
  );
  agent.proc.kill('SIGTERM');
  expect((await agent.exited).code).toBe(0);
  const events = readNdjson(out); // throws on a line that is not JSON
  expect(events).toHaveLength(LINES);
  events.forEach((e, i) => {
    // no message: the fields hold the whole line; it is rebuilt from them, in order
    expect(e.message).toBeUndefined();
    const dash = (v: unknown) => (v === null ? '-' : String(v));
    expect(
      `${e.remote_addr as string} - ${dash(e.remote_user)} [${e.time_local as string}] "${e.request as string}" ${e.status as number} ${e.body_bytes_sent as number} "${dash(e.http_referer)}" "${dash(e.http_user_agent)}"`,
    ).toBe(lines[i]);
    expect(e.parse_error).toBeUndefined();
    expect(typeof e.status).toBe('number');
    expect(typeof e.body_bytes_sent).toBe('number');
    expect(e.service).toBe('web');
    expect(e.source).toBe(log);
  });
  // spot checks against the line itself
  const m = /" (\d{3}) (\d+) "/.exec(lines[123])!;
  expect([events[123].status, events[123].body_bytes_sent]).toEqual([Number(m[1]), Number(m[2])]);
  expect(events[0].timestamp).toBe('2026-11-23T12:00:00.000Z');
});

test('parser: template through the binary, and a bad template refused by validate', async () => {
  const log = join(dir, 'app.log');
  await writeFile(log, '[info] started\n[warn] disk 91%\nno brackets\n');
  const cfg = await fileToFileConfig(dir, [log]);
  const good = readFileSync(cfg, 'utf8').replace(
    '    poll_interval: 50ms',
    `    poll_interval: 50ms\n    parser: template\n    templates: ['[{level}] {message}']`,
  );
  await writeFile(cfg, good);
  expect((await runAgent(['validate', cfg])).code).toBe(0);
  const out = join(dir, 'out.ndjson');
  const agent = startAgent(['--config', cfg]);
  track(agent);
  await waitFor(
    () => lineCount(out) >= 3,
    '3 events',
    15_000,
    () => agent.stderr(),
  );
  agent.proc.kill('SIGTERM');
  expect((await agent.exited).code).toBe(0);
  expect(readNdjson(out).map((e) => [e.level, e.message, e.parse_error])).toEqual([
    ['info', 'started', undefined],
    ['warn', 'disk 91%', undefined],
    [undefined, 'no brackets', true],
  ]);

  await writeFile(cfg, good.replace('[{level}] {message}', '[{level] {message}'));
  const bad = await runAgent(['validate', cfg]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(
    /agent\.yaml:\d+:\d+: sources\.app\.templates\[0\]: bad template: unclosed `\{`/,
  );
  expect(bad.stderr).toContain('^');
});
