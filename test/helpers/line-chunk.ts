// The LineChunk contract (src/pipeline/types.ts), checked on what a source emits: every line
// ends in `\n`, `lines` counts them, `ends` (when present) covers the buffer line by line, a
// line without `ends` holds no `\n` of its own, and a truncated chunk is a single line.

/** The parts of a LineChunk this checks (a source's chunk, or a decoder's callback args). */
export interface ChunkLike {
  buf: Buffer;
  lines: number;
  ends?: Int32Array | null;
  truncated: boolean;
}

/** The lines of `c`, without their final `\n`, split as the pipeline splits them. */
export function chunkLines(c: ChunkLike, encoding: BufferEncoding = 'utf8'): string[] {
  const text = c.buf.toString(encoding);
  const parts: string[] = [];
  if (c.ends) {
    if (c.ends.length !== c.lines || c.ends[c.ends.length - 1] !== c.buf.length) {
      throw new Error(`bad ends ${Array.from(c.ends)} for ${c.lines} lines of ${c.buf.length} B`);
    }
    let s = 0;
    for (const e of c.ends) {
      parts.push(text.slice(s, e));
      s = e;
    }
  } else {
    parts.push(...text.split(/(?<=\n)/));
  }
  if (parts.length !== c.lines) throw new Error(`chunk says ${c.lines} lines, has ${parts.length}`);
  if (c.truncated && c.lines !== 1) throw new Error('a truncated line must travel alone');
  return parts.map((p) => {
    if (!p.endsWith('\n')) throw new Error(`a line without its \\n: ${JSON.stringify(p)}`);
    return p.slice(0, -1);
  });
}
