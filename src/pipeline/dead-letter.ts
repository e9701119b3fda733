// A sink's dead-letter file: batches a destination refused for good, one JSON line each,
// appended and fsynced before the batch is acknowledged, so a refusal never loses data silently.
//
//   <data_dir>/dead-letter/<sink id>.ndjson     (file 0600, directory 0700)
//   {"time":"2026-11-23T12:00:00.000Z","sink":"up","code":"VES_SINK_REJECTED","status":400,
//    "reason":"HTTP 400 ...","events":2,"body":"{\"message\":\"a\"}\n{\"message\":\"b\"}\n"}
//
// `body` is the refused events exactly as the sink encoded them (NDJSON lines, or raw lines), as
// a JSON string; when those bytes are not valid UTF-8 (raw lines can be anything) the key is
// `body_base64` instead. Re-send with e.g. `jq -j .body up.ndjson | curl --data-binary @- ...`.
// One line per batch keeps the file valid NDJSON, greppable and appendable without a reader
// ever seeing half an entry as a whole one.

import { mkdir, open } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { join } from 'node:path';
import { VesError } from '../errors.js';
import { redact } from '../observe/logger.js';

export interface DeadLetter {
  /** The refusal's code (VES_SINK_REJECTED, or VES_BUFFER_CORRUPT for an unreadable record). */
  code: string;
  reason: string;
  /** The destination's status (HTTP), when it gave one. */
  status?: number;
  events: number;
  body: Buffer;
}

export class DeadLetterFile {
  readonly path: string;
  private readonly dir: string;
  /** Appends run one after another: lines never interleave. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    dataDir: string,
    private readonly sinkId: string,
  ) {
    this.dir = join(dataDir, 'dead-letter');
    this.path = join(this.dir, `${sinkId}.ndjson`);
  }

  /** Appends one entry and fsyncs it; rejects with VES_DEAD_LETTER when that fails. */
  write(entry: DeadLetter): Promise<void> {
    const p = this.chain.then(() => this.append(entry));
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async append(e: DeadLetter): Promise<void> {
    const line: Record<string, unknown> = {
      time: new Date().toISOString(),
      sink: this.sinkId,
      code: e.code,
      ...(e.status !== undefined ? { status: e.status } : {}),
      reason: redact(e.reason), // a receiver may echo the credentials in its answer
      events: e.events,
    };
    if (isUtf8(e.body)) line.body = e.body.toString('utf8');
    else line.body_base64 = e.body.toString('base64');
    let text = JSON.stringify(line) + '\n';
    let fh;
    let before = -1;
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      // a+: append, and read the last byte: a crash mid-append leaves a torn last line, which
      // the next entry must not be glued to (it gets a line of its own; the torn one stays).
      fh = await open(this.path, 'a+', 0o600);
      before = (await fh.stat()).size;
      if (before > 0) {
        const last = Buffer.alloc(1);
        await fh.read(last, 0, 1, before - 1);
        if (last[0] !== 0x0a) text = '\n' + text;
      }
      await fh.writeFile(text, 'utf8');
      // Acknowledging the batch lets its checkpoint pass it: the entry must be on disk first.
      await fh.sync();
    } catch (err) {
      // Leave no half entry behind: the retry appends the whole entry again.
      if (fh !== undefined && before >= 0) await fh.truncate(before).catch(() => undefined);
      throw new VesError(
        'VES_DEAD_LETTER',
        `cannot write the dead-letter file ${this.path}: ${(err as Error).message}; check that data_dir is writable and not full`,
        undefined,
        { cause: err },
      );
    } finally {
      await fh?.close().catch(() => undefined);
    }
  }
}
