// The syslog source over UDP with a real socket on a free loopback port: one datagram, one
// message; oversized ones cut and flagged; datagrams that arrive while paused are dropped,
// counted and logged (UDP cannot be paused).

import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, test } from 'vitest';
import type { SyslogSource } from '../../../src/sources/syslog/source.js';
import { delay, waitFor } from '../../helpers/wait.js';
import { messages, startSyslog, texts } from './helpers.js';

const started: SyslogSource[] = [];
const clients: Socket[] = [];
afterEach(async () => {
  await Promise.all(started.map((s) => s.stop()));
  started.length = 0;
  for (const c of clients) c.close();
  clients.length = 0;
});

async function udpClient(): Promise<Socket> {
  const s = createSocket('udp4');
  clients.push(s);
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

function sendTo(s: Socket, port: number, msg: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) =>
    s.send(msg, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
  );
}

describe('syslog source over UDP', () => {
  test('one datagram, one message; trailers dropped; LF inside kept; path is the peer', async () => {
    const h = await startSyslog({ mode: 'udp' }, started);
    const c = await udpClient();
    await sendTo(c, h.port, '<34>Oct 11 22:14:15 host su: one\n');
    await sendTo(c, h.port, '<34>Oct 11 22:14:15 host su: two\r\n');
    await sendTo(c, h.port, '<34>Oct 11 22:14:15 host app: a\nb');
    await waitFor(() => texts(h.chunks).length === 3, { what: '3 messages' });
    expect(texts(h.chunks)).toEqual([
      '<34>Oct 11 22:14:15 host su: one',
      '<34>Oct 11 22:14:15 host su: two',
      '<34>Oct 11 22:14:15 host app: a\nb',
    ]);
    const peer = `udp://127.0.0.1:${c.address().port}`;
    expect(h.chunks.every((ch) => ch.path === peer && ch.mark === null)).toBe(true);
  });

  test('two peers: each message carries its own peer', async () => {
    const h = await startSyslog({ mode: 'udp' }, started);
    const a = await udpClient();
    const b = await udpClient();
    await sendTo(a, h.port, 'from a');
    await sendTo(b, h.port, 'from b');
    await sendTo(a, h.port, 'from a again');
    await waitFor(() => texts(h.chunks).length === 3, { what: '3 messages' });
    const byText = Object.fromEntries(messages(h.chunks).map(([m, , p]) => [m, p]));
    expect(byText).toEqual({
      'from a': `udp://127.0.0.1:${a.address().port}`,
      'from b': `udp://127.0.0.1:${b.address().port}`,
      'from a again': `udp://127.0.0.1:${a.address().port}`,
    });
  });

  test('an oversized datagram is cut at max_frame_bytes and flagged', async () => {
    const h = await startSyslog({ mode: 'udp', max_frame_bytes: 8 }, started);
    const c = await udpClient();
    await sendTo(c, h.port, '0123456789abcdef');
    await sendTo(c, h.port, 'short');
    await waitFor(() => texts(h.chunks).length === 2, { what: '2 messages' });
    expect(messages(h.chunks).map(([m, t]) => [m, t])).toEqual([
      ['01234567', true],
      ['short', false],
    ]);
  });

  test('while paused, datagrams are dropped and counted; the count is logged on resume', async () => {
    const h = await startSyslog({ mode: 'udp' }, started);
    const c = await udpClient();
    await sendTo(c, h.port, 'before');
    await waitFor(() => texts(h.chunks).length === 1, { what: 'the first message' });
    h.src.pause();
    await sendTo(c, h.port, 'dropped 1');
    await sendTo(c, h.port, 'dropped 2');
    await waitFor(() => h.src.stats.dropped === 2, { what: '2 drops' });
    h.src.resume();
    await sendTo(c, h.port, 'after');
    await waitFor(() => texts(h.chunks).length === 2, { what: 'the message after resume' });
    expect(texts(h.chunks)).toEqual(['before', 'after']);
    const warn = h.records.find((r) => r.code === 'VES_SOURCE_LIMIT');
    expect(warn).toMatchObject({ level: 'warn', dropped: 2 });
    // /metrics: ves_source_dropped_total{source="sys"}, and the agent's drops.
    expect(h.counters.source('sys').dropped).toBe(2);
    expect(h.counters.dropped).toBe(2);
  });

  test('an IPv6 address: [::1]:0 listens on udp6; the peer shows in brackets', async () => {
    const h = await startSyslog({ mode: 'udp', address: '[::1]:0' }, started);
    const c = createSocket('udp6');
    clients.push(c);
    await new Promise<void>((r) => c.bind(0, '::1', () => r()));
    await new Promise<void>((r, j) => c.send('<13>v6', h.port, '::1', (e) => (e ? j(e) : r())));
    await waitFor(() => h.chunks.length === 1, { what: 'the message' });
    expect(h.chunks[0].path).toBe(`udp://[::1]:${c.address().port}`);
    expect(h.src.address()).toEqual({ host: '::1', port: h.port });
  });

  test('stop closes the socket: nothing more is emitted', async () => {
    const h = await startSyslog({ mode: 'udp' }, started);
    const c = await udpClient();
    await h.src.stop();
    await sendTo(c, h.port, 'too late');
    await delay(50); // a grace for a chunk that must not come
    expect(h.chunks).toHaveLength(0);
  });
});
