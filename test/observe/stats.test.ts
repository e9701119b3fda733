// The live stats line: every figure the issue asks for, redrawn in place and fitted to the width
// on a terminal, one plain line per interval elsewhere, colour only on a TTY without NO_COLOR.
import { PassThrough } from 'node:stream';
import { afterEach, expect, test, vi } from 'vitest';
import { Counters } from '../../src/observe/counters.js';
import { Sampler, type Snapshot } from '../../src/observe/sampler.js';
import { formatStatsLine, startStatsLine, useColor } from '../../src/observe/stats.js';

afterEach(() => vi.useRealTimers());

/** A fixed CPU and RSS: pidusage reads /proc, real I/O that fake timers do not wait for. */
const usage = async () => ({ cpu: 12.5, rss: 48 * 1048576 });

async function snapshot(): Promise<Snapshot> {
  const c = new Counters();
  const sampler = new Sampler(c, {
    view: () => ({
      inFlight: { batches: 3, bytes: 2_100_000, events: 3000 },
      health: () => ({ running: true, sinks: [] }),
    }),
    usage,
  });
  c.linesIn = 1_420_000;
  c.bytesIn = 196_000_000;
  c.eventsOut = 1_420_000;
  c.bytesOut = 310_000_000;
  c.sinkErrors = 2;
  c.parseErrors = 5;
  c.latency.handoff.recordMs(0.21);
  c.latency.handoff.recordMs(0.6);
  c.latency.ack.recordMs(0.9);
  return (await sampler.tick())!;
}

const ESC = String.fromCharCode(27);

test('the plain line has rates in and out, CPU, RSS, both latencies, queue, retries, drops, parse errors', async () => {
  const line = formatStatsLine(await snapshot(), { color: false });
  expect(line).toMatch(
    /^in [\d.]+[kM]? lines\/s [\d.]+ MB\/s \| out [\d.]+[kM]? ev\/s [\d.]+ MB\/s \| CPU \d+% \| RSS \d+ MB \| /,
  );
  expect(line).toContain('| handoff p50/p99/p999 0.21/0.60/0.60 ms |');
  expect(line).toContain('| ack 0.90/0.90/0.90 ms |');
  expect(line).toContain('| queue 3 batches 2.1 MB |');
  expect(line).toContain('| retries 2 | drops 0 | parse errors 5 |');
  expect(line).toContain('total 1420000 in, 1420000 out');
  expect(line).not.toContain(ESC);
});

test('with colour, the text is the same once the SGR codes are removed', async () => {
  const s = await snapshot();
  const colored = formatStatsLine(s, { color: true });
  expect(colored).toContain(`${ESC}[`);
  expect(colored.replace(/\x1b\[\d+m/g, '')).toBe(formatStatsLine(s, { color: false }));
});

test('a width drops whole segments from the end, never cuts one', async () => {
  const s = await snapshot();
  const full = formatStatsLine(s, { color: false });
  const narrow = formatStatsLine(s, { color: false, width: 80 });
  expect(narrow.length).toBeLessThan(80);
  expect(full.startsWith(narrow)).toBe(true);
  expect(full[narrow.length]).toBe(' '); // cut at a separator
});

test.each([
  [true, {}, true],
  [true, { NO_COLOR: '1' }, false],
  [true, { NO_COLOR: '' }, true], // no-color.org: set *and not empty*
  [false, {}, false],
])('useColor(isTTY=%s, env=%j) = %s', (isTTY, env, want) => {
  expect(useColor({ isTTY }, env)).toBe(want);
});

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text: () => string } {
  const s = new PassThrough() as unknown as NodeJS.WriteStream & { text: () => string };
  let out = '';
  s.on('data', (d: Buffer) => (out += d.toString()));
  Object.assign(s, { isTTY, columns: 100, text: () => out });
  return s;
}

test('not a TTY: one plain line per interval, no cursor codes, no colour', async () => {
  vi.useFakeTimers();
  const sampler = new Sampler(new Counters(), { view: () => undefined, intervalMs: 1000, usage });
  const stream = fakeStream(false);
  const stop = startStatsLine(sampler, { stream, env: {} });
  await vi.advanceTimersByTimeAsync(2600); // the first line at 0.3 s, then 1 s, 2 s
  stop();
  sampler.stop();
  const lines = stream.text().split('\n').filter(Boolean);
  expect(lines.length).toBe(3);
  for (const l of lines) expect(l).toMatch(/^in 0 lines\/s/);
  expect(stream.text()).not.toContain(ESC);
});

test('a TTY: redrawn in place (back up, erase), two rows fitted to the columns, coloured', async () => {
  vi.useFakeTimers();
  const sampler = new Sampler(new Counters(), { view: () => undefined, intervalMs: 1000, usage });
  const stream = fakeStream(true);
  const stop = startStatsLine(sampler, { stream, env: {} });
  await vi.advanceTimersByTimeAsync(2600);
  stop();
  sampler.stop();
  const text = stream.text();
  // The first draw erases the current line; the next ones go back up over the block first.
  expect(text.startsWith(`\r${ESC}[K`)).toBe(true);
  const draws = text.split(/\r(?:\x1b\[\d+A)?\x1b\[[JK]/).filter(Boolean);
  expect(draws.length).toBe(3);
  expect(text).toContain(`\r${ESC}[1A${ESC}[J`);
  expect(text.endsWith('\n')).toBe(true); // stop() leaves the last drawing and goes below it
  for (const d of draws) {
    const rows = d.replace(/\n$/, '').split('\n');
    expect(rows.length).toBe(2);
    expect(d).toContain(`${ESC}[2m`);
    for (const r of rows) expect(r.replace(/\x1b\[\d+m/g, '').length).toBeLessThan(100);
  }
});

test.each([80, 120])('at most 3 rows of %i columns hold every figure', async (width) => {
  // A busy agent's figures (the widest the line gets in practice).
  const s = await snapshot();
  Object.assign(s.in, { lines_per_s: 1_420_000, bytes_per_s: 196e6, lines_total: 123_456_789 });
  Object.assign(s.out, { events_per_s: 1_420_000, bytes_per_s: 310e6, events_total: 123_456_789 });
  s.cpu_percent = 123;
  const text = formatStatsLine(s, { color: false, width, rows: 3 });
  const rows = text.split('\n');
  expect(rows.length).toBeGreaterThan(1);
  expect(rows.length).toBeLessThanOrEqual(3);
  for (const r of rows) expect(r.length).toBeLessThan(width);
  for (const want of ['in ', 'out ', 'CPU ', 'RSS ', 'handoff p50/p99/p999 ', 'ack ', 'queue ']) {
    expect(text).toContain(want);
  }
  if (width >= 120)
    for (const want of ['retries', 'drops', 'parse errors']) expect(text).toContain(want);
});

test('a TTY with NO_COLOR: redrawn in place, but no colour', async () => {
  vi.useFakeTimers();
  const sampler = new Sampler(new Counters(), { view: () => undefined, usage });
  const stream = fakeStream(true);
  const stop = startStatsLine(sampler, { stream, env: { NO_COLOR: '1' } });
  await vi.advanceTimersByTimeAsync(600);
  stop();
  sampler.stop();
  expect(stream.text()).toContain(`\r${ESC}[K`);
  expect(stream.text()).not.toMatch(/\x1b\[\d+m/);
});
