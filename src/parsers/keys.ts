// Keys taken from the line (json, logfmt) against the keys the event already has. `message` and
// `timestamp` have a meaning (the event text and time); the agent's own keys (source, host,
// parse_error, truncated) and the source's static fields would become duplicate JSON keys, so a
// line's key equal to one of them is written with a `_` prefix (docs/parsers.md). A source of
// forwarded events (an aggregator's http source) writes none of the agent's keys itself: the
// line's own are the event's, so only message, timestamp and the static fields are looked at.

export const K_PLAIN = 0;
export const K_MESSAGE = 1;
export const K_TIMESTAMP = 2;
export const K_CLASH = 3;

/** Keys of every event besides message and timestamp. */
export const AGENT_KEYS = ['source', 'host', 'parse_error', 'truncated'];

/** Longest key looked at: longer keys cannot be reserved ones unless a static field is longer. */
export class KeyGuard {
  /** byLen[n]: the reserved keys of n bytes, with their kind. */
  private readonly byLen: Array<Array<{ bytes: Buffer; kind: number }> | undefined> = [];

  constructor(reserved: readonly string[], forwarded = false) {
    const add = (name: string, kind: number) => {
      const bytes = Buffer.from(name, 'utf8');
      const list = (this.byLen[bytes.length] ??= []);
      if (!list.some((k) => k.bytes.equals(bytes))) list.push({ bytes, kind });
    };
    add('message', K_MESSAGE);
    add('timestamp', K_TIMESTAMP);
    if (!forwarded) for (const k of AGENT_KEYS) add(k, K_CLASH);
    for (const k of reserved) add(k, K_CLASH);
  }

  /** The kind of the key bytes [ks, ke) (raw bytes: an escaped JSON key is compared as written). */
  classify(buf: Uint8Array, ks: number, ke: number): number {
    const n = ke - ks;
    if (n >= this.byLen.length) return K_PLAIN;
    const list = this.byLen[n];
    if (list === undefined) return K_PLAIN;
    for (let j = 0; j < list.length; j++) {
      const b = list[j].bytes;
      let k = 0;
      while (k < n && buf[ks + k] === b[k]) k++;
      if (k === n) return list[j].kind;
    }
    return K_PLAIN;
  }
}
