// A logger that keeps what it is told, so tests can assert on codes and messages.

import { createLogger, type Logger } from '../../src/observe/logger.js';

export interface LogRecord {
  level: string;
  msg: string;
  code?: string;
  [k: string]: unknown;
}

export function captureLogger(): { log: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const log = createLogger({
    level: 'debug',
    format: 'json',
    write: (line) => records.push(JSON.parse(line) as LogRecord),
  });
  return { log, records };
}
