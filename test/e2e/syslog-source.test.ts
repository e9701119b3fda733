// The syslog source through the built binary: RFC 5424 and RFC 3164 messages over TCP (octet
// counting and LF framing on one connection, a message holding LF, a frame split across
// writes) and UDP, from our own sockets and from real peers, util-linux `logger` and a
// syslog-ng relay (Debian's syslog-ng-core); parsed fields land in a file sink, and SIGTERM
// delivers everything and exits 0. Also: a port in use, and a SIGHUP reload.

import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect, createServer } from 'node:net';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { lineCount, readNdjson, startAgent, waitFor, type Agent, useTestDir } from './harness.js';

let dir: string;
const track = useTestDir((d) => (dir = d));

/** The ports the sources logged (`listening`), by source name, once all are there. */
function ports(agent: Agent, names: string[]): Record<string, number> | null {
  const out: Record<string, number> = {};
  for (const line of agent.stderr().split('\n')) {
    if (!line.startsWith('{')) continue;
    const r = JSON.parse(line) as { msg: string; component: string; address?: string };
    if (r.msg === 'listening' && r.address) {
      out[r.component.replace(/^source\./, '')] = Number(r.address.split(':').pop());
    }
  }
  return names.every((n) => n in out) ? out : null;
}

const octet = (m: string): string => `${Buffer.byteLength(m)} ${m}`;

const M5424 =
  '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 4711 ID47 [exampleSDID@32473 iut="3" eventSource="Application"] An application event';
const M3164 = '<34>Oct 11 22:14:15 mymachine su[123]: su root failed for lonvick';
const MULTI = '<11>1 2003-10-11T22:14:16Z web app - - - java.lang.Error: boom\n\tat A.b(A.java:1)';

// workers 0 parses on the main thread; 2 sends every chunk through the parse workers' ring,
// which must carry `ends` (the message that holds LF) across.
test.each([0, 2])(
  'workers: %i: syslog over TCP (both framings) and UDP, from our sockets and from logger: parsed fields in the file sink',
  async (workers) => {
    const out = join(dir, 'out.ndjson');
    const cfg = join(dir, 'agent.yaml');
    await writeFile(
      cfg,
      `data_dir: ${join(dir, 'data')}
sources:
  tcp:
    type: syslog
    address: 127.0.0.1:0
  udp:
    type: syslog
    mode: udp
    address: 127.0.0.1:0
    fields: {via: udp}
sinks:
  out:
    type: file
    path: ${out}
batch: {timeout: 5ms}
workers: ${workers}
`,
    );
    const agent = startAgent(['--config', cfg, '--log-format', 'json'], { env: { TZ: 'UTC' } });
    track(agent);
    let p: Record<string, number> | null = null;
    await waitFor(
      () => (p = ports(agent, ['tcp', 'udp'])) !== null,
      'both sources listening',
      15_000,
      agent.stderr,
    );
    const { tcp, udp } = p!;

    // Our TCP client: octet counting and LF framing mixed, a message holding LF, a frame split
    // across two writes, and a last frame short of its MSG-LEN when the connection closes.
    const sock = connect({ host: '127.0.0.1', port: tcp, noDelay: true });
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const tcpPeer = `tcp://127.0.0.1:${sock.localPort}`;
    const split = octet('<13>1 2003-10-11T22:14:17Z h split - - - split across writes');
    const write = (s: string) => new Promise<void>((r) => sock.write(s, () => r()));
    await write(`${octet(M5424)}${M3164}\n${octet(MULTI)}${split.slice(0, 9)}`);
    await new Promise((r) => setTimeout(r, 20));
    await write(`${split.slice(9)}40 <14>1 - h cut - - - short`);
    await new Promise<void>((r) => sock.end(() => r()));

    // UDP datagrams, one message each.
    const u = createSocket('udp4');
    const sendUdp = (m: string) =>
      new Promise<void>((r, j) => u.send(m, udp, '127.0.0.1', (e) => (e ? j(e) : r())));
    await sendUdp(`${M5424}\n`);
    await sendUdp(M3164);
    u.close();

    // A real peer: util-linux logger (Debian's bsdutils), RFC 5424 with octet counting over TCP,
    // RFC 3164 over UDP.
    execFileSync('logger', [
      '--tcp',
      '--octet-count',
      '--rfc5424',
      '-n',
      '127.0.0.1',
      '-P',
      String(tcp),
      '--sd-id',
      'test@32473',
      '--sd-param',
      'k="v"',
      '--msgid',
      'M1',
      '-t',
      'loggertcp',
      '-p',
      'local3.warning',
      'hello from logger over tcp',
    ]);
    execFileSync('logger', [
      '--udp',
      '--rfc3164',
      '-n',
      '127.0.0.1',
      '-P',
      String(udp),
      '-t',
      'loggerudp',
      '-p',
      'user.err',
      'hello from logger over udp',
    ]);

    const want = 9;
    await waitFor(
      () => lineCount(out) >= want,
      `${want} events`,
      20_000,
      () => `${lineCount(out)}; ${agent.stderr()}`,
    );
    agent.proc.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);

    const events = readNdjson(out);
    expect(events).toHaveLength(want);
    const by = (msg: string, source: RegExp) => {
      const e = events.filter((x) => x.message === msg && source.test(String(x.source)));
      expect(e, `${msg} from ${source}`).toHaveLength(1);
      return e[0];
    };
    const fromTcp = new RegExp(`^${tcpPeer.replace(/\./g, '\\.')}$`);
    const fromUdp = /^udp:\/\/127\.0\.0\.1:\d+$/;

    expect(by('An application event', fromTcp)).toMatchObject({
      timestamp: '2003-10-11T22:14:15.003Z',
      facility: 20,
      severity: 5,
      level: 'notice',
      hostname: 'mymachine.example.com',
      appname: 'evntslog',
      procid: '4711',
      msgid: 'ID47',
      structured_data: { 'exampleSDID@32473': { iut: '3', eventSource: 'Application' } },
    });
    const e3164 = by('su root failed for lonvick', fromTcp);
    expect(e3164).toMatchObject({
      facility: 4,
      severity: 2,
      level: 'critical',
      hostname: 'mymachine',
      appname: 'su',
      procid: '123',
    });
    expect(e3164.timestamp).toMatch(/^\d{4}-10-11T22:14:15\.000Z$/);
    // One event, its LF kept inside the message.
    expect(by('java.lang.Error: boom\n\tat A.b(A.java:1)', fromTcp)).toMatchObject({
      appname: 'app',
      severity: 3,
    });
    expect(by('split across writes', fromTcp)).toMatchObject({ appname: 'split' });
    // 40 bytes announced, fewer sent before the close: delivered as far as it came, flagged.
    expect(by('short', fromTcp)).toMatchObject({ appname: 'cut', truncated: true });

    expect(by('An application event', fromUdp)).toMatchObject({ msgid: 'ID47', via: 'udp' });
    expect(by('su root failed for lonvick', fromUdp)).toMatchObject({ appname: 'su', via: 'udp' });

    expect(by('hello from logger over tcp', /^tcp:/)).toMatchObject({
      facility: 19,
      severity: 4,
      appname: 'loggertcp',
      msgid: 'M1',
      structured_data: { 'test@32473': { k: 'v' } },
    });
    expect(by('hello from logger over udp', fromUdp)).toMatchObject({
      facility: 1,
      severity: 3,
      level: 'error',
      appname: 'loggerudp',
      via: 'udp',
    });
    expect(events.filter((e) => e.truncated === true)).toHaveLength(1);
  },
);

test('a port in use: the agent exits 1 naming the source and the address', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const port = (blocker.address() as { port: number }).port;
  try {
    const cfg = join(dir, 'agent.yaml');
    await writeFile(
      cfg,
      `data_dir: ${join(dir, 'data')}\nsources:\n  sys: {type: syslog, address: "127.0.0.1:${port}"}\nsinks:\n  out: {type: stdout}\n`,
    );
    const agent = startAgent(['--config', cfg]);
    track(agent);
    expect((await agent.exited).code).toBe(1);
    expect(agent.stderr()).toContain(`VES_SOURCE_LISTEN`);
    expect(agent.stderr()).toContain(
      `source sys: cannot listen on 127.0.0.1:${port} (tcp): the port is in use`,
    );
  } finally {
    blocker.close();
  }
});

test('SIGHUP reload: the listener closes and opens again on the same port; messages on both sides arrive', async () => {
  // A port found free (bound, then released): a reload keeps the configured port, so it
  // cannot be 0 here.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const out = join(dir, 'out.ndjson');
  const cfg = join(dir, 'agent.yaml');
  const yaml = (tag: string) =>
    `data_dir: ${join(dir, 'data')}\nsources:\n  sys:\n    type: syslog\n    address: 127.0.0.1:${port}\n    fields: {tag: ${tag}}\nsinks:\n  out: {type: file, path: ${out}}\n`;
  await writeFile(cfg, yaml('before'));
  const agent = startAgent(['--config', cfg, '--log-format', 'json']);
  track(agent);
  await waitFor(() => ports(agent, ['sys']) !== null, 'listening', 15_000, agent.stderr);
  const sendOne = async (m: string) => {
    const s = connect({ host: '127.0.0.1', port });
    await new Promise<void>((r, j) => {
      s.once('connect', r);
      s.once('error', j);
    });
    await new Promise<void>((r) => s.end(`${octet(m)}`, () => r()));
  };
  await sendOne('<13>1 - h app - - - before reload');
  await waitFor(() => lineCount(out) >= 1, 'the first event', 15_000, agent.stderr);
  await writeFile(cfg, yaml('after'));
  agent.proc.kill('SIGHUP');
  await waitFor(() => /"msg":"reloaded"/.test(agent.stderr()), 'the reload', 15_000, agent.stderr);
  await sendOne('<13>1 - h app - - - after reload');
  await waitFor(() => lineCount(out) >= 2, 'the second event', 15_000, agent.stderr);
  agent.proc.kill('SIGTERM');
  expect((await agent.exited).code).toBe(0);
  expect(readNdjson(out).map((e) => [e.message, e.tag])).toEqual([
    ['before reload', 'before'],
    ['after reload', 'after'],
  ]);
});

test('a real relay: syslog-ng forwards over TCP (RFC 5424, octet counting) and UDP (RFC 3164)', async () => {
  const out = join(dir, 'out.ndjson');
  const cfg = join(dir, 'agent.yaml');
  await writeFile(
    cfg,
    `data_dir: ${join(dir, 'data')}\nsources:\n  tcp: {type: syslog, address: "127.0.0.1:0"}\n  udp: {type: syslog, mode: udp, address: "127.0.0.1:0"}\nsinks:\n  out: {type: file, path: ${out}}\n`,
  );
  const agent = startAgent(['--config', cfg, '--log-format', 'json']);
  track(agent);
  let p: Record<string, number> | null = null;
  await waitFor(
    () => (p = ports(agent, ['tcp', 'udp'])) !== null,
    'listening',
    15_000,
    agent.stderr,
  );
  // syslog-ng reads a log file and relays each line to both of our sources: syslog() speaks
  // RFC 5424 with octet counting (RFC 6587), network() over UDP the BSD format (RFC 3164).
  const ng = join(dir, 'ng');
  await mkdir(ng);
  await writeFile(
    join(ng, 'in.log'),
    '<13>Nov 23 10:00:00 relayhost myapp[42]: hello via syslog-ng\n<11>Nov 23 10:00:01 relayhost other: second line\n',
  );
  await writeFile(
    join(ng, 'ng.conf'),
    `@version: 3.35
options { keep-hostname(yes); stats-freq(0); };
source s { file("${join(ng, 'in.log')}" follow-freq(0.1)); };
destination tcp5424 { syslog("127.0.0.1" port(${p!.tcp}) transport("tcp")); };
destination udp3164 { network("127.0.0.1" port(${p!.udp}) transport("udp")); };
log { source(s); destination(tcp5424); destination(udp3164); };
`,
  );
  const relay = spawn(
    '/usr/sbin/syslog-ng',
    [
      '-F',
      '--no-caps',
      '-f',
      join(ng, 'ng.conf'),
      '-R',
      join(ng, 'persist'),
      '-p',
      join(ng, 'pid'),
      '-c',
      join(ng, 'ctl'),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TZ: 'UTC' } },
  );
  let relayErr = '';
  relay.stderr.setEncoding('utf8').on('data', (d: string) => (relayErr += d));
  try {
    await waitFor(
      () => lineCount(out) >= 4,
      '4 events',
      20_000,
      () => `${relayErr}\n${agent.stderr()}`,
    );
  } finally {
    relay.kill('SIGTERM');
  }
  agent.proc.kill('SIGTERM');
  expect((await agent.exited).code).toBe(0);
  const events = readNdjson(out);
  expect(events).toHaveLength(4);
  for (const via of ['tcp', 'udp']) {
    const mine = events.filter((e) => String(e.source).startsWith(`${via}://127.0.0.1:`));
    expect(mine.map((e) => e.message)).toEqual(['hello via syslog-ng', 'second line']);
    expect(mine[0]).toMatchObject({
      hostname: 'relayhost',
      appname: 'myapp',
      procid: '42',
      facility: 1,
      severity: 5,
    });
    expect(mine[1]).toMatchObject({ hostname: 'relayhost', appname: 'other', severity: 3 });
    expect(String(mine[0].timestamp)).toMatch(/^\d{4}-11-23T10:00:00\.000Z$/);
  }
  // RFC 5424 carries syslog-ng's structured data; RFC 3164 has none.
  expect(events.find((e) => String(e.source).startsWith('tcp:'))!.structured_data).toEqual({
    meta: { sequenceId: '1' },
  });
});
