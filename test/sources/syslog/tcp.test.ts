// The syslog source over TCP and TLS with real sockets on free loopback ports: both framings on
// one connection, frames split across TCP reads, the bounds (max_frame_bytes, max_connections,
// connection_idle_timeout), backpressure (pause stops reading), and stop().

import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { VesError } from '../../../src/errors.js';
import type { SyslogSource } from '../../../src/sources/syslog/source.js';
import { useTempDir } from '../../helpers/tmp.js';
import { selfSigned } from '../../helpers/tls.js';
import { delay, waitFor } from '../../helpers/wait.js';
import { closeClient, messages, send, startSyslog, tcpClient, texts } from './helpers.js';

const started: SyslogSource[] = [];
afterEach(async () => {
  await Promise.all(started.map((s) => s.stop()));
  started.length = 0;
});

const M5424 =
  '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"] An application event';
const M3164 = '<34>Oct 11 22:14:15 mymachine su: su root failed for lonvick on /dev/pts/8';

describe('syslog source over TCP', () => {
  test('octet counting and LF framing on one connection; path is the peer', async () => {
    const h = await startSyslog({}, started);
    const c = await tcpClient(h.port);
    await send(c, `${Buffer.byteLength(M5424)} ${M5424}${M3164}\n`);
    await send(c, `9 two\nlines\0`); // the NUL after a counted frame: an empty line
    await waitFor(() => texts(h.chunks).length === 3, { what: '3 messages' });
    expect(texts(h.chunks)).toEqual([M5424, M3164, 'two\nlines']);
    const peer = `tcp://127.0.0.1:${c.localPort}`;
    expect(
      h.chunks.every((ch) => ch.path === peer && ch.sourceId === 'sys' && ch.mark === null),
    ).toBe(true);
    // The message that holds LF travels with `ends`, so it stays one event.
    expect(h.chunks.some((ch) => ch.ends !== undefined)).toBe(true);
    await closeClient(c);
    await waitFor(() => h.src.stats.open === 0, { what: 'the connection to close' });
    expect(h.src.stats).toMatchObject({ connections: 1, open: 0, frames: 3, truncated: 0 });
    expect(h.counters.source('sys').connections).toBe(0);
  });

  test('a frame split across TCP reads at each position arrives whole', async () => {
    const h = await startSyslog({}, started);
    const frame = Buffer.from(`${Buffer.byteLength(M5424)} ${M5424}`);
    for (let i = 1; i < frame.length; i += 7) {
      const c = await tcpClient(h.port);
      await send(c, frame.subarray(0, i));
      await delay(2); // a separate read on the other side, most of the time; the test holds either way
      await send(c, frame.subarray(i));
      await closeClient(c);
    }
    const want = Math.ceil((frame.length - 1) / 7);
    await waitFor(() => texts(h.chunks).length === want, { what: `${want} messages` });
    expect(new Set(texts(h.chunks))).toEqual(new Set([M5424]));
    expect(messages(h.chunks).every(([, t]) => !t)).toBe(true);
  });

  test('octet count larger than the data at close: delivered as far as it came, truncated', async () => {
    const h = await startSyslog({}, started);
    const c = await tcpClient(h.port);
    await send(c, 'ok\n500 only this much');
    await closeClient(c);
    await waitFor(() => texts(h.chunks).length === 2, { what: '2 messages' });
    expect(messages(h.chunks).map(([m, t]) => [m, t])).toEqual([
      ['ok', false],
      ['only this much', true],
    ]);
    expect(h.src.stats).toMatchObject({ incomplete: 1, truncated: 1 });
  });

  test('a frame over max_frame_bytes is cut and flagged; the connection goes on', async () => {
    const h = await startSyslog({ max_frame_bytes: 16 }, started);
    const c = await tcpClient(h.port);
    await send(c, `40 ${'x'.repeat(40)}${'y'.repeat(30)}\n4 next`);
    await waitFor(() => texts(h.chunks).length === 3, { what: '3 messages' });
    expect(messages(h.chunks).map(([m, t]) => [m, t])).toEqual([
      ['x'.repeat(16), true],
      ['y'.repeat(16), true],
      ['next', false],
    ]);
    await closeClient(c);
  });

  test('max_connections: one more is closed at once, counted and logged', async () => {
    const h = await startSyslog({ max_connections: 1 }, started);
    const a = await tcpClient(h.port);
    await waitFor(() => h.src.stats.open === 1, { what: 'the first connection' });
    expect(h.counters.source('sys').connections).toBe(1); // ves_source_connections
    const b = await tcpClient(h.port);
    await new Promise<void>((r) => b.once('close', () => r()));
    expect(h.src.stats.refused).toBe(1);
    expect(
      h.records.some((r) => r.code === 'VES_SOURCE_LIMIT' && /max_connections/.test(r.msg)),
    ).toBe(true);
    await send(a, 'still here\n');
    await waitFor(() => texts(h.chunks).length === 1, { what: 'the first connection to work' });
    await closeClient(a);
  });

  test('connection_idle_timeout closes a silent connection; its messages are kept', async () => {
    const h = await startSyslog({ connection_idle_timeout: 100 }, started);
    const c = await tcpClient(h.port);
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    await send(c, 'before idle\nno trailer');
    await closed;
    await waitFor(() => h.src.stats.open === 0, { what: 'the server side to close' });
    expect(texts(h.chunks)).toEqual(['before idle', 'no trailer']);
    expect(h.src.stats.idleClosed).toBe(1);
  });

  test('connection_idle_timeout does not count the time we kept a connection paused', async () => {
    const h = await startSyslog({ connection_idle_timeout: 100 }, started);
    const c = await tcpClient(h.port);
    await waitFor(() => h.src.stats.open === 1, { what: 'the connection' });
    h.src.pause();
    await send(c, 'sent while paused\n');
    await delay(400); // 4 idle timeouts: the connection must still be open
    expect(h.src.stats).toMatchObject({ open: 1, idleClosed: 0 });
    h.src.resume();
    await waitFor(() => texts(h.chunks).length === 1, { what: 'the message' });
    expect(texts(h.chunks)).toEqual(['sent while paused']);
    await waitFor(() => h.src.stats.idleClosed === 1, { what: 'the idle close after resume' });
  });

  test('pause stops reading (nothing lost), resume delivers', async () => {
    const h = await startSyslog({}, started);
    const c = await tcpClient(h.port);
    await send(c, 'one\n');
    await waitFor(() => h.chunks.length === 1, { what: 'the first message' });
    h.src.pause();
    await send(c, 'two\n');
    const late = await tcpClient(h.port); // a connection made while paused starts paused
    await send(late, 'three\n');
    await delay(100); // a grace for a chunk that must not come
    expect(texts(h.chunks)).toEqual(['one']);
    h.src.resume();
    await waitFor(() => texts(h.chunks).length === 3, { what: '3 messages' });
    expect(texts(h.chunks).sort()).toEqual(['one', 'three', 'two']);
    await closeClient(c);
    await closeClient(late);
  });

  test('stop closes the listener and hands over what each connection received', async () => {
    const h = await startSyslog({}, started);
    const c = await tcpClient(h.port);
    await send(c, 'whole\npartial without trailer');
    await waitFor(() => h.chunks.length === 1, { what: 'the whole message' });
    h.src.pause(); // stop also drains what a paused socket holds
    await h.src.stop();
    expect(texts(h.chunks)).toEqual(['whole', 'partial without trailer']);
    await expect(tcpClient(h.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  test('an IPv6 address: [::1]:0; the peer shows in brackets', async () => {
    const h = await startSyslog({ address: '[::1]:0' }, started);
    const c = connect({ host: '::1', port: h.port });
    await new Promise<void>((r) => c.once('connect', () => r()));
    await send(c, 'v6\n');
    await waitFor(() => h.chunks.length === 1, { what: 'the message' });
    expect(h.chunks[0].path).toBe(`tcp://[::1]:${c.localPort}`);
    await closeClient(c);
  });

  test('a port in use fails the start with VES_SOURCE_LISTEN', async () => {
    const h = await startSyslog({}, started);
    const err = await startSyslog({ address: `127.0.0.1:${h.port}` }, started).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VesError);
    expect(err).toMatchObject({ code: 'VES_SOURCE_LISTEN' });
    expect((err as Error).message).toMatch(
      /^source sys: cannot listen on 127\.0\.0\.1:\d+ \(tcp\): the port is in use/,
    );
  });
});

describe('syslog source over TLS', () => {
  const dir = useTempDir();

  test('TLS with cert_file and key_file: messages arrive, path says tls', async () => {
    const { cert, key } = selfSigned(dir(), 'server');
    const h = await startSyslog({ tls: { cert_file: cert, key_file: key } }, started);
    const c = tlsConnect({ host: '127.0.0.1', port: h.port, rejectUnauthorized: false });
    await new Promise<void>((r, j) => {
      c.once('secureConnect', r);
      c.once('error', j);
    });
    await new Promise<void>((r) =>
      c.write(`${Buffer.byteLength(M5424)} ${M5424}${M3164}\n`, () => r()),
    );
    await waitFor(() => texts(h.chunks).length === 2, { what: '2 messages' });
    expect(texts(h.chunks)).toEqual([M5424, M3164]);
    expect(h.chunks[0].path).toMatch(/^tls:\/\/127\.0\.0\.1:\d+$/);
    c.end();
  });

  test.each([
    [
      'a missing cert file',
      (d: string, k: string) => ({ cert_file: join(d, 'nope.crt'), key_file: k }),
      'cannot read tls.cert_file',
    ],
    [
      'a file that is not PEM',
      (d: string, k: string) => ({ cert_file: join(d, 'junk.pem'), key_file: k }),
      'not usable',
    ],
  ])('%s fails the build with VES_SOURCE_TLS', async (_name, files, says) => {
    const { key } = selfSigned(dir(), 'server');
    await writeFile(join(dir(), 'junk.pem'), 'not a certificate');
    const err = await startSyslog({ tls: files(dir(), key) }, started).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'VES_SOURCE_TLS' });
    expect((err as Error).message).toContain(says);
  });
});
