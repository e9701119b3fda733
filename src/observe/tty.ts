// The block of lines a terminal redraws in place (the --stats line, one or two rows) and the
// log lines around it: a log line written while the block is shown first erases it, then the
// block is drawn again below, so the two never run into each other.

let live: { stream: NodeJS.WriteStream; text: string; rows: number } | null = null;

/** Back to the start of the block and erase it: \r, cursor up (rows - 1), erase to the end. */
function erase(rows: number): string {
  return `\r${rows > 1 ? `\x1b[${rows - 1}A` : ''}\x1b[J`;
}

/** Show `text` (lines without a final newline) as the live block of `stream` (a TTY), or end
 *  it (null): the last drawing stays on screen and the cursor goes below it. */
export function setLiveLine(stream: NodeJS.WriteStream, text: string | null): void {
  const mine = live !== null && live.stream === stream;
  if (text === null) {
    if (mine) stream.write('\n');
    live = null;
    return;
  }
  stream.write(`${mine ? erase(live!.rows) : '\r\x1b[K'}${text}`);
  live = { stream, text, rows: text.split('\n').length };
}

/** Where the agent's log goes by default: stderr, above the live block if there is one. */
export function writeStderr(line: string): void {
  if (live !== null && live.stream === process.stderr) {
    process.stderr.write(`${erase(live.rows)}${line}${live.text}`);
  } else {
    process.stderr.write(line);
  }
}
