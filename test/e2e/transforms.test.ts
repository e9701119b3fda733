// Transforms and multiline through the built binary: nginx lines parsed, filtered (status < 400
// dropped) and enriched, every expected event out in order and the dropped ones counted in
// /metrics; Java stack traces out as one event each.
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { nginxLines } from '../../src/gen/nginx.js';
import { lineCount, readNdjson, startAgent, waitFor, type Agent, useTestDir } from './harness.js';

let dir: string;
const track = useTestDir((d) => (dir = d));

function start(cfg: string, env: Record<string, string> = {}): Agent {
  const a = startAgent(['--config', cfg], { env });
  track(a);
  return a;
}

async function apiUrl(a: Agent): Promise<string> {
  let url = '';
  await waitFor(
    () => {
      url = /admin API listening url=(http:\/\/\S+)/.exec(a.stderr())?.[1] ?? '';
      return url !== '';
    },
    'the admin API',
    15_000,
    a.stderr,
  );
  return url;
}

async function metric(url: string, sample: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(sample + ' '));
  if (line === undefined) throw new Error(`no sample ${sample} in:\n${text}`);
  return Number(line.slice(sample.length + 1));
}

async function config(workers: string, extra = ''): Promise<string> {
  const path = join(dir, 'agent.yaml');
  await writeFile(
    path,
    `data_dir: ${join(dir, 'data')}
checkpoint_interval: 100ms
workers: ${workers}
api: {enabled: true, address: 127.0.0.1:0}
sources:
  web:
    type: file
    include: [${JSON.stringify(join(dir, 'access.log'))}]
    parser: nginx
    keep_message: true # the events are checked against the lines they came from
    poll_interval: 50ms
${extra}
transforms:
  - type: filter
    sources: [web]
    action: drop
    condition: {field: status, lt: 400}
  - type: enrich
    fields: {team: web, tier: 1}
    env: {region: VES_E2E_REGION}
sinks:
  out:
    type: file
    path: ${join(dir, 'out.ndjson')}
batch: {max_events: 500, timeout: 5ms}
`,
  );
  return path;
}

/** The lines of `text` whose status (the 9th space-separated field) is >= 400. */
function errorsOf(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .filter((l) => Number(l.split(' ')[8]) >= 400);
}

test.each([['0'], ['2']])(
  'nginx -> filter drop status < 400 -> enrich (workers: %s): every expected event, in order',
  async (workers) => {
    const log = join(dir, 'access.log');
    const first = nginxLines(6000, 11);
    const second = nginxLines(3000, 12);
    await writeFile(log, first);
    const a = start(await config(workers), { VES_E2E_REGION: 'eu-west-1' });
    const url = await apiUrl(a);
    const out = join(dir, 'out.ndjson');
    const want = [...errorsOf(first), ...errorsOf(second)];
    const all = first.split('\n').length - 1 + second.split('\n').length - 1;
    await waitFor(
      () => lineCount(out) >= errorsOf(first).length,
      'the first errors',
      15_000,
      a.stderr,
    );
    await appendFile(log, second);
    await waitFor(() => lineCount(out) >= want.length, 'every error event', 15_000, a.stderr);
    // The last lines read may all have been dropped: wait for the count of lines read.
    for (let i = 0; i < 300; i++) {
      if ((await metric(url, 'ves_source_lines_total{source="web"}')) === all) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await metric(url, 'ves_source_lines_total{source="web"}')).toBe(all);
    expect(await metric(url, 'ves_sink_events_total{sink="out"}')).toBe(want.length);
    if (workers === '0') {
      // Counted where the filter ran: on the main thread here (workers: 0).
      expect(await metric(url, 'ves_transform_dropped_total{transform="filter_0"}')).toBe(
        all - want.length,
      );
    }
    a.proc.kill('SIGTERM');
    expect((await a.exited).code).toBe(0);
    const events = readNdjson(out);
    expect(events.map((e) => e.message)).toEqual(want);
    for (const e of events) {
      expect(e.status).toBeGreaterThanOrEqual(400);
      expect(e).toMatchObject({ team: 'web', tier: 1, region: 'eu-west-1', source: log });
    }
  },
);

test('multiline: Java stack traces are one event each; the held one leaves at the timeout', async () => {
  const log = join(dir, 'app.log');
  const trace = (n: number): string =>
    `2026-11-23 12:00:0${n} ERROR request ${n} failed\n` +
    `java.lang.IllegalStateException: boom ${n}\n` +
    `\tat com.example.App.run(App.java:${n})\n` +
    `Caused by: java.lang.NullPointerException\n` +
    `\t... 3 more\n`;
  await writeFile(log, trace(1) + '2026-11-23 12:00:02 INFO fine\n' + trace(3));
  const path = join(dir, 'agent.yaml');
  await writeFile(
    path,
    `data_dir: ${join(dir, 'data')}
checkpoint_interval: 100ms
sources:
  app:
    type: file
    include: [${JSON.stringify(log)}]
    poll_interval: 50ms
    multiline: {mode: start_pattern, pattern: '^\\d{4}-\\d\\d-\\d\\d ', timeout: 200ms}
sinks:
  out:
    type: file
    path: ${join(dir, 'out.ndjson')}
`,
  );
  const a = start(path);
  const out = join(dir, 'out.ndjson');
  await waitFor(() => lineCount(out) >= 3, 'three events', 15_000, a.stderr);
  await appendFile(log, '2026-11-23 12:00:04 INFO last\n');
  await waitFor(() => lineCount(out) >= 4, 'the fourth event (by timeout)', 15_000, a.stderr);
  a.proc.kill('SIGTERM');
  expect((await a.exited).code).toBe(0);
  expect(readNdjson(out).map((e) => e.message)).toEqual([
    trace(1).slice(0, -1),
    '2026-11-23 12:00:02 INFO fine',
    trace(3).slice(0, -1),
    '2026-11-23 12:00:04 INFO last',
  ]);
});
