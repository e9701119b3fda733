// The agent's log: levels, JSON and text, secrets scrubbed, warnings kept for /stats.
import { expect, test } from 'vitest';
import { createLogger, redact, registerSecret, type LogRecord } from '../../src/observe/logger.js';

test.each([
  ['https://u:p4ss@host/x', 'https://***@host/x'],
  ['http://user:@h', 'http://***@h'],
  ['Authorization: Bearer eyJhbGciOi.xyz', 'Authorization: Bearer ***'],
  ['Basic dXNlcjpwYXNz', 'Basic ***'],
  ['mail alice@example.com', 'mail alice@example.com'],
  ['nothing here', 'nothing here'],
])('redact(%j) = %j', (input, want) => {
  expect(redact(input)).toBe(want);
});

test('a registered secret is scrubbed wherever it is quoted; short values are not secrets', () => {
  registerSecret('s3cr3t-logger-test');
  registerSecret('abc');
  expect(redact('invalid token s3cr3t-logger-test (s3cr3t-logger-test)')).toBe(
    'invalid token *** (***)',
  );
  expect(redact('abc stays')).toBe('abc stays');
});

test('messages and string fields are scrubbed in both formats; levels filter', () => {
  for (const format of ['json', 'text'] as const) {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', format, write: (l) => lines.push(l) });
    log.debug('hidden');
    log.info('sent to https://a:b@h/', { error: 'Bearer abcdefgh rejected', n: 3 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/a:b@|abcdefgh/);
    expect(lines[0]).toContain('***');
  }
});

test('warnings and errors reach onProblem even below the level; info does not', () => {
  const seen: LogRecord[] = [];
  const lines: string[] = [];
  const log = createLogger({
    level: 'error',
    format: 'text',
    write: (l) => lines.push(l),
    onProblem: (r) => seen.push(r),
  });
  log.child('sink.out').warn('write failed; retrying', { code: 'VES_SINK_WRITE', error: 'ENOSPC' });
  log.info('started');
  expect(lines).toEqual([]);
  expect(seen).toHaveLength(1);
  expect(seen[0]).toMatchObject({
    level: 'warn',
    component: 'sink.out',
    msg: 'write failed; retrying',
    code: 'VES_SINK_WRITE',
    error: 'ENOSPC',
  });
});
