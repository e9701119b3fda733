// A request body of the http source, from the bytes on the wire to chunks of checked NDJSON
// lines: decompressed within max_body_bytes (a zip bomb is refused before it is inflated), then
// every line checked before any of it is accepted (all or nothing per request).

import { promisify } from 'node:util';
import { gunzip as gunzipCb, type ZlibOptions } from 'node:zlib';
import { LINE_BLANK, LINE_NOT_OBJECT, LINE_OBJECT, scanLine } from '../../parsers/json.js';

const gunzip = promisify<Buffer, ZlibOptions, Buffer>(gunzipCb);
const NL = 10;

/** Content-Encodings the source takes (what the http sink sends, and `identity`). */
export type BodyEncoding = 'identity' | 'gzip' | 'zstd';

/** A body the source refuses: the HTTP status and the reason sent back to the client. */
export class BodyError extends Error {
  constructor(
    readonly status: 400 | 413,
    message: string,
  ) {
    super(message);
  }
}

/** The Content-Encoding header as one of ours, or null for one we do not take. */
export function bodyEncoding(header: string | undefined): BodyEncoding | null {
  if (header === undefined) return 'identity';
  const v = header.trim().toLowerCase();
  if (v === '' || v === 'identity') return 'identity';
  if (v === 'gzip' || v === 'x-gzip') return 'gzip';
  if (v === 'zstd') return 'zstd';
  return null;
}

type Zstd = (data: Buffer) => Promise<Buffer>;
let zstd: Promise<Zstd> | undefined;

/** @mongodb-js/zstd, loaded once on the first zstd body (see src/sinks/http/compress.ts). */
function loadZstd(): Promise<Zstd> {
  zstd ??= import('@mongodb-js/zstd/bindings.js').then(
    (m) => m.decompress as Zstd,
    (err: Error) => {
      zstd = undefined;
      throw err;
    },
  );
  return zstd;
}

/** Resolves once zstd bodies can be read: build() calls it, so a broken install fails at start. */
export async function prepareZstd(): Promise<void> {
  await loadZstd();
}

/** The body as NDJSON bytes, at most maxBytes of them; throws a BodyError (400, 413). */
export async function decodeBody(
  body: Buffer,
  encoding: BodyEncoding,
  maxBytes: number,
): Promise<Buffer> {
  if (encoding === 'identity' || body.length === 0) return body;
  if (encoding === 'gzip') {
    try {
      // maxOutputLength stops inflating there (RangeError), so a bomb never gets allocated.
      return await gunzip(body, { maxOutputLength: maxBytes });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new BodyError(413, `the body inflates to more than max_body_bytes (${maxBytes})`);
      }
      throw new BodyError(400, `not a valid gzip body: ${(err as Error).message}`);
    }
  }
  // The native zstd decoder has no output bound, so the frame headers are read first: they bound
  // what the body can inflate to without inflating it.
  const bound = zstdBound(body, maxBytes);
  if (bound === -1) throw new BodyError(400, 'not a valid zstd body: bad frame or block header');
  if (bound > maxBytes) {
    // The bound is tight (within one block per frame) for levels up to 15; levels 16+ split
    // blocks smaller, so their bodies are refused from about max_body_bytes / 25 up.
    throw new BodyError(
      413,
      `the body may inflate to more than max_body_bytes (${maxBytes}): its zstd frame headers allow up to ${bound} bytes (zstd levels 16+ count high here: compress at a lower level or send smaller bodies)`,
    );
  }
  let out: Buffer;
  try {
    out = await (await loadZstd())(body);
  } catch (err) {
    throw new BodyError(400, `not a valid zstd body: ${(err as Error).message}`);
  }
  // Cannot happen if the bound is right; kept so a decoder surprise cannot pass the limit.
  if (out.length > maxBytes) {
    throw new BodyError(413, `the body inflates to more than max_body_bytes (${maxBytes})`);
  }
  return out;
}

/** 128 KiB: the largest block zstd decodes to (RFC 8878 3.1.1.2.4, Block_Maximum_Size). */
const ZSTD_MAX_BLOCK = 128 * 1024;
const ZSTD_MAGIC = 0xfd2fb528;
/** Skippable frames: magic 0x184D2A50..0x184D2A5F. */
const ZSTD_SKIPPABLE = 0x184d2a50;

/**
 * An upper bound of the bytes zstd frames (RFC 8878) decode to, read from their headers alone:
 * raw and RLE blocks state their size, a compressed block decodes to at most
 * min(window, 128 KiB). -1 when the bytes are not zstd frames; stops counting past `limit`.
 * One step per block (128 KiB of output), so it costs nothing next to decoding. Frames made
 * by one-shot compressors (our http sink's) carry no content size, hence the walk. The bound is
 * within 128 KiB per frame of the truth up to level 15; levels 16+ cut smaller compressed
 * blocks (zstd's block splitter), each still counted as a full one.
 */
export function zstdBound(buf: Buffer, limit: number): number {
  const n = buf.length;
  let p = 0;
  let total = 0;
  while (p < n) {
    if (p + 4 > n) return -1;
    const magic = buf.readUInt32LE(p);
    if ((magic & 0xfffffff0) >>> 0 === ZSTD_SKIPPABLE) {
      if (p + 8 > n) return -1;
      p += 8 + buf.readUInt32LE(p + 4);
      if (p > n) return -1;
      continue;
    }
    if (magic !== ZSTD_MAGIC || p + 5 > n) return -1;
    p += 4;
    const fhd = buf[p++];
    if (fhd & 0x08) return -1; // reserved bit
    const fcsFlag = fhd >> 6;
    const single = (fhd >> 5) & 1;
    let window = 0;
    if (!single) {
      if (p >= n) return -1;
      const wd = buf[p++];
      const base = 2 ** (10 + (wd >> 3));
      window = base + (base / 8) * (wd & 7);
    }
    p += [0, 1, 2, 4][fhd & 3]; // dictionary id
    const fcsBytes = fcsFlag === 0 ? single : [0, 2, 4, 8][fcsFlag];
    if (p + fcsBytes > n) return -1;
    if (single) {
      // Single segment: the window is the content size.
      window =
        fcsBytes === 1
          ? buf[p]
          : fcsBytes === 2
            ? buf.readUInt16LE(p) + 256
            : fcsBytes === 4
              ? buf.readUInt32LE(p)
              : buf.readUInt32LE(p) + buf.readUInt32LE(p + 4) * 2 ** 32;
    }
    p += fcsBytes;
    const blockMax = window < ZSTD_MAX_BLOCK ? window : ZSTD_MAX_BLOCK;
    for (;;) {
      if (p + 3 > n) return -1;
      const h = buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16);
      p += 3;
      const type = (h >> 1) & 3;
      const size = h >>> 3;
      if (type === 0) {
        total += size; // raw
        p += size;
      } else if (type === 1) {
        total += size; // RLE: one byte repeated `size` times
        p += 1;
      } else if (type === 2) {
        total += blockMax; // compressed
        p += size;
      } else return -1;
      if (p > n) return -1;
      if (total > limit) return total;
      if (h & 1) break; // last block
    }
    if (fhd & 0x04) p += 4; // content checksum
    if (p > n) return -1;
  }
  return total;
}

/**
 * The checked lines of a body, cut into chunks of about `chunkBytes` at line ends (each chunk
 * ends in `\n`), with the line count of each; `events` in all.
 */
export interface BodyLines {
  chunks: Buffer[];
  lines: number[];
  events: number;
}

/** The first line that is not a JSON object (1-based), and why. */
export interface BadLine {
  line: number;
  reason: string;
}

/**
 * Checks every line of an NDJSON body and cuts it into chunks. Blank lines are dropped and a
 * last line without `\n` gets one; both need a copy, which our http sink never causes (its
 * bodies are one object per line, each ending in `\n`), so that path is the rare one.
 *
 * Why no JSON.parse: it would build an object graph per event only to throw it away; the
 * parser's byte scanner (scanLine) checks a line without making anything.
 */
export function splitBody(body: Buffer, chunkBytes: number): BodyLines | BadLine {
  return scan(body, chunkBytes) ?? compactAndScan(body, chunkBytes);
}

function compactAndScan(body: Buffer, chunkBytes: number): BodyLines | BadLine {
  const parts: Buffer[] = [];
  let size = 0;
  let pos = 0;
  const n = body.length;
  while (pos < n) {
    const nl = body.indexOf(NL, pos);
    const end = nl < 0 ? n : nl;
    if (scanLine(body, pos, end) !== LINE_BLANK) {
      parts.push(body.subarray(pos, end), NEWLINE);
      size += end - pos + 1;
    }
    pos = end + 1;
  }
  const out = scan(Buffer.concat(parts, size), chunkBytes);
  if (out === null) throw new Error('bug: a compacted body still has blank lines');
  return out;
}

const NEWLINE = Buffer.from('\n');

/**
 * One pass over the lines: the first bad one, or the chunks; null when the body has blank lines
 * or lacks its last `\n` (all lines are still checked first, so a bad line wins).
 */
function scan(body: Buffer, chunkBytes: number): BodyLines | BadLine | null {
  const n = body.length;
  const chunks: Buffer[] = [];
  const lines: number[] = [];
  let needsCopy = n > 0 && body[n - 1] !== NL;
  let pos = 0;
  let lineNo = 0;
  let events = 0;
  let chunkStart = 0;
  let chunkLines = 0;
  while (pos < n) {
    const nl = body.indexOf(NL, pos);
    const end = nl < 0 ? n : nl;
    lineNo++;
    const kind = scanLine(body, pos, end);
    if (kind === LINE_OBJECT) {
      events++;
      chunkLines++;
    } else if (kind === LINE_BLANK) {
      needsCopy = true;
    } else {
      const reason = kind === LINE_NOT_OBJECT ? 'valid JSON but not an object' : 'not valid JSON';
      return { line: lineNo, reason };
    }
    pos = end + 1;
    if (pos - chunkStart >= chunkBytes && !needsCopy) {
      chunks.push(body.subarray(chunkStart, pos));
      lines.push(chunkLines);
      chunkStart = pos;
      chunkLines = 0;
    }
  }
  if (needsCopy) return null;
  if (chunkLines > 0) {
    chunks.push(body.subarray(chunkStart, n));
    lines.push(chunkLines);
  }
  return { chunks, lines, events };
}
