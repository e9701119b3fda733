// Lines a real host produces on a bad day: long, CRLF, empty, unterminated, invalid UTF-8.
// No crash, nothing silently dropped, every output line valid JSON.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import {
  fileToFileConfig,
  lineCount,
  readNdjson,
  startAgent,
  waitFor,
  useTestDir,
} from './harness.js';

let dir: string;
useTestDir((d) => (dir = d));

test('long lines, CRLF, empty lines, invalid UTF-8 and no trailing newline', async () => {
  const log = join(dir, 'app.log');
  const long = 'L'.repeat(300 * 1024); // over the 64 KiB max_line_bytes set below
  const content = Buffer.concat([
    Buffer.from('first\r\n'),
    Buffer.from('\n\n'),
    Buffer.from(`${long}\n`),
    Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0xc3, 0x28, 0x0a]), // "bad" + invalid bytes
    Buffer.from('tab\there "quotes" \\back\u0001\n'),
    Buffer.from('caf\u00e9 \u{1f600}\n'),
    Buffer.from('last line without newline'),
  ]);
  await writeFile(log, content);
  const cfg = await fileToFileConfig(dir, [log]);
  const yaml = (await import('node:fs'))
    .readFileSync(cfg, 'utf8')
    .replace(
      'partial_line_timeout: 300ms',
      'partial_line_timeout: 300ms\n    max_line_bytes: 64KiB',
    );
  await writeFile(cfg, yaml);
  const out = join(dir, 'out.ndjson');
  const agent = startAgent(['--config', cfg]);
  await waitFor(
    () => lineCount(out) >= 8,
    '8 events',
    15_000,
    () => `${lineCount(out)}; ${agent.stderr()}`,
  );
  agent.proc.kill('SIGTERM');
  expect((await agent.exited).code).toBe(0);
  const events = readNdjson(out); // throws if any line is not JSON
  const messages = events.map((e) => e.message as string);
  expect(messages).toHaveLength(8);
  expect(messages[0]).toBe('first');
  expect(messages[1]).toBe('');
  expect(messages[2]).toBe('');
  expect(messages[3]).toHaveLength(64 * 1024);
  expect(events[3].truncated).toBe(true);
  expect(messages[4]).toBe(
    Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0xc3, 0x28]).toString('utf8'),
  );
  expect(messages[4]).toContain('\ufffd');
  expect(messages[5]).toBe('tab\there "quotes" \\back\u0001');
  expect(messages[6]).toBe('caf\u00e9 \u{1f600}');
  expect(messages[7]).toBe('last line without newline');
  expect(events.filter((e) => e.truncated).length).toBe(1);
});
