// Security defaults of the built binary (issue #7): listeners on loopback unless told otherwise,
// secrets never in logs or the admin API, private files (0600) in a private data_dir (0700)
// whatever the umask, and file sink paths from event fields that cannot leave their directory.
import { createServer, type Server } from 'node:http';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { sources } from '../../src/sources/index.js';
import { BIN, lineCount, startAgent, tempDir, waitFor, type Agent } from '../e2e/harness.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir('ves-rel-sec-')));
afterEach(async () => cleanup());

const LOOPBACK = /^(127\.0\.0\.1|\[::1\]|localhost):\d+$/;

describe('network listeners default to loopback', () => {
  test('the admin API: 127.0.0.1:8686 unless `api.address` says otherwise', () => {
    const c = parseConfig(
      'sources:\n  a: {type: stdin}\nsinks:\n  o: {type: stdout}\napi: {enabled: true}\n',
      'a.yaml',
      {},
    );
    expect(c.api.address).toBe('127.0.0.1:8686');
  });

  // Every registered source with an `address` (the http and syslog sources when they land)
  // must default to a loopback address: a collector exposed on all interfaces by default
  // accepts logs (and floods) from the whole network.
  const withAddress = Object.entries(
    sources as Record<
      string,
      { schema: { fields?: Record<string, { fallback?: () => unknown }> } }
    >,
  )
    .filter(([, e]) => e.schema.fields?.address !== undefined)
    .map(([type, e]) => [type, e.schema.fields!.address.fallback?.()] as const);

  test.each(['http', 'syslog'])(
    'the %s source, once registered, listens on loopback by default',
    (type) => {
      const entry = withAddress.find(([t]) => t === type);
      if (entry === undefined) {
        // Not built on this branch yet: it must then not be registered at all.
        expect(Object.keys(sources)).not.toContain(type);
        return;
      }
      expect(String(entry[1])).toMatch(LOOPBACK);
    },
  );

  test.each(withAddress.length > 0 ? withAddress : [['(none yet)', '127.0.0.1:0'] as const])(
    'source type %s: default address %s is loopback',
    (_type, address) => {
      expect(String(address)).toMatch(LOOPBACK);
    },
  );
});

/** Every file and directory under `root` with its permission bits, as `path mode` lines. */
async function modes(root: string): Promise<Array<{ path: string; dir: boolean; mode: number }>> {
  const out = [{ path: '.', dir: true, mode: (await stat(root)).mode & 0o777 }];
  for (const d of await readdir(root, { recursive: true, withFileTypes: true })) {
    const p = join(d.parentPath, d.name);
    const st = await stat(p).catch(() => null); // a temp file may be renamed meanwhile
    if (st) out.push({ path: relative(root, p), dir: st.isDirectory(), mode: st.mode & 0o777 });
  }
  return out;
}

const show = (list: Array<{ path: string; mode: number }>) =>
  list.map((m) => `${m.path} ${m.mode.toString(8)}`).join(', ');

/** A receiver that refuses every request with 401 and, carelessly, quotes the credentials. */
async function refusingReceiver(): Promise<{
  url: string;
  server: Server;
  requests: () => number;
}> {
  let n = 0;
  const server = createServer((req, res) => {
    n++;
    req.resume();
    req.on('end', () => {
      const auth = req.headers.authorization ?? '';
      const cred = auth.replace(/^(Bearer|Basic) /, '');
      const plain = auth.startsWith('Basic ') ? Buffer.from(cred, 'base64').toString() : cred;
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' });
      res.end(`invalid credentials ${cred} (${plain}); you sent: ${auth}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1/logs`, server, requests: () => n };
}

/** Starts the binary with umask 000, so only the agent's own modes keep files private. */
function startWithUmask000(args: string[], env: Record<string, string>): Agent {
  const proc = spawn(
    '/bin/sh',
    ['-c', 'umask 000; exec "$0" "$@"', process.execPath, BIN, ...args],
    {
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    proc.once('exit', (code, signal) => r({ code, signal })),
  );
  return { proc, stdout: () => out, stderr: () => err, exited };
}

const TOKEN = 'tok-9f8e7d6c5b4a-SECRET';
const PASSWORD = 'pw-Zq81-hunter2-SECRET';
const USER = 'shipper';

test('secrets never appear in logs, /metrics, /stats, /health; data files 0600 in a 0700 data_dir (umask 000)', async () => {
  const rx = await refusingReceiver();
  try {
    const log = join(dir, 'in', 'app.log');
    await mkdir(join(dir, 'in'));
    await writeFile(log, Array.from({ length: 50 }, (_, i) => `line ${i}\n`).join(''));
    const data = join(dir, 'data');
    const cfg = join(dir, 'agent.yaml');
    await writeFile(
      cfg,
      `data_dir: ${data}
checkpoint_interval: 50ms
sources:
  app: {type: file, include: ["${join(dir, 'in')}/*.log"], poll_interval: 50ms}
sinks:
  out: {type: file, path: ${join(dir, 'out', 'out.ndjson')}}
  bearer:
    type: http
    uri: ${rx.url}
    auth: {strategy: bearer, token: "\${VES_REL_TOKEN}"}
    buffer: {type: disk}
    retry: {max_attempts: 1}
  basic:
    type: http
    uri: ${rx.url}
    auth: {strategy: basic, user: ${USER}, password: "\${VES_REL_PASSWORD}"}
    retry: {max_attempts: 1}
batch: {max_events: 10}
api: {enabled: true, address: "127.0.0.1:0"}
`,
    );
    const agent = startWithUmask000(['--config', cfg, '--stats', '--log-level', 'debug'], {
      VES_REL_TOKEN: TOKEN,
      VES_REL_PASSWORD: PASSWORD,
    });
    try {
      const deadDir = join(data, 'dead-letter');
      const dead = () => readdir(deadDir).catch(() => [] as string[]);
      await waitFor(
        () => lineCount(join(dir, 'out', 'out.ndjson')) >= 50,
        'all lines in the file sink',
        30_000,
        agent.stderr,
      );
      let deadFiles: string[] = [];
      await waitFor(
        () => {
          void dead().then((f) => (deadFiles = f));
          return deadFiles.length === 2 && /admin API listening/.test(agent.stderr());
        },
        'both http sinks dead-lettering the refused batches',
        30_000,
        () => `${deadFiles}; ${agent.stderr().slice(-2000)}`,
      );
      const url = /admin API listening url=(http:\/\/127\.0\.0\.1:\d+)/.exec(agent.stderr())?.[1];
      expect(url, agent.stderr()).toBeDefined();
      const endpoints: Record<string, string> = {};
      for (const path of ['/metrics', '/stats', '/health', '/ui']) {
        endpoints[path] = await (await fetch(url + path)).text();
      }
      expect(endpoints['/metrics']).toContain('ves_sink_events_total');

      // Files and directories the agent made while running (lock, checkpoints, disk buffer
      // segments and cursor, dead letters): private despite umask 000.
      const running = await modes(data);
      expect(running.filter((m) => !m.dir).map((m) => m.path)).toEqual(
        expect.arrayContaining([
          'agent.lock',
          'checkpoints.json',
          join('dead-letter', 'bearer.ndjson'),
          join('dead-letter', 'basic.ndjson'),
        ]),
      );
      expect(running.some((m) => m.path.startsWith(join('buffers', 'bearer')) && !m.dir)).toBe(
        true,
      );
      agent.proc.kill('SIGTERM');
      expect((await agent.exited).code).toBe(0);
      const stopped = await modes(data);
      for (const list of [running, stopped]) {
        expect(
          list.filter((m) => m.dir && m.mode !== 0o700),
          show(list),
        ).toEqual([]);
        expect(
          list.filter((m) => !m.dir && m.mode !== 0o600),
          show(list),
        ).toEqual([]);
      }
      expect(rx.requests()).toBeGreaterThanOrEqual(2);

      // The credentials went out (the receiver saw and echoed them) but come back nowhere.
      const basic64 = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
      const deadText = (
        await Promise.all(deadFiles.map((f) => readFile(join(deadDir, f), 'utf8')))
      ).join('');
      expect(deadText).toContain('401');
      const places: Record<string, string> = {
        stderr: agent.stderr(),
        stdout: agent.stdout(),
        ...endpoints,
        'dead letters': deadText,
      };
      for (const [where, text] of Object.entries(places)) {
        for (const secret of [TOKEN, PASSWORD, basic64]) {
          expect(text.includes(secret), `${secret} found in ${where}`).toBe(false);
        }
      }
      expect(agent.stderr()).toContain('HTTP 401');
    } finally {
      agent.proc.kill('SIGKILL');
    }
  } finally {
    rx.server.close();
  }
});

test('an existing data_dir that others can list gets a warning; the files in it stay 0600', async () => {
  const data = join(dir, 'data');
  await mkdir(data);
  await chmod(data, 0o755);
  const log = join(dir, 'app.log');
  await writeFile(log, 'one\ntwo\n');
  const cfg = join(dir, 'agent.yaml');
  await writeFile(
    cfg,
    `data_dir: ${data}\ncheckpoint_interval: 50ms\nsources:\n  app: {type: file, include: [${log}]}\nsinks:\n  out: {type: file, path: ${join(dir, 'out.ndjson')}}\n`,
  );
  const agent = startWithUmask000(['--config', cfg], {});
  await waitFor(() => lineCount(join(dir, 'out.ndjson')) >= 2, 'two events', 20_000, agent.stderr);
  agent.proc.kill('SIGTERM');
  expect((await agent.exited).code).toBe(0);
  expect(agent.stderr()).toMatch(/data_dir can be listed by group or others.*mode=0755/);
  const list = await modes(data);
  expect(
    list.filter((m) => !m.dir && m.mode !== 0o600),
    show(list),
  ).toEqual([]);
  expect(list.find((m) => m.path === 'checkpoints.json')).toBeDefined();
});

test('file sink paths from event fields cannot escape their directory', async () => {
  const log = join(dir, 'in', 'app.log');
  await mkdir(join(dir, 'in'));
  const hostile = [
    '../../../../../../etc/passwd',
    '..',
    '.',
    '',
    '/etc/shadow',
    '..\\..\\windows',
    'a/../../b',
    'nul\u0000byte',
    '....//....//tmp',
    'web',
  ];
  const lines = hostile.flatMap((svc, i) => [
    JSON.stringify({ service: svc, level: '../up', n: i }),
    JSON.stringify({ service: svc, n: i + 100 }),
  ]);
  lines.push('not json at all: gets no fields');
  await writeFile(log, lines.map((l) => l + '\n').join(''));
  const cfg = join(dir, 'agent.yaml');
  const out = join(dir, 'out');
  await writeFile(
    cfg,
    `data_dir: ${join(dir, 'data')}
sources:
  app: {type: file, include: [${log}], parser: json}
sinks:
  split: {type: file, path: "${out}/{service}/{level}.ndjson"}
`,
  );
  const agent = startAgent(['--config', cfg]);
  const written = async () => {
    let n = 0;
    for (const d of await readdir(out, { recursive: true, withFileTypes: true }).catch(() => [])) {
      if (d.isFile()) n += lineCount(join(d.parentPath, d.name));
    }
    return n;
  };
  let n = 0;
  await waitFor(
    () => {
      void written().then((v) => (n = v));
      return n >= lines.length;
    },
    `${lines.length} events in the split files`,
    20_000,
    () => `${n}; ${agent.stderr()}`,
  );
  agent.proc.kill('SIGTERM');
  expect((await agent.exited).code).toBe(0);
  // Nothing outside `out` besides what the test made (in/, agent.yaml) and data_dir.
  expect((await readdir(dir)).sort()).toEqual(['agent.yaml', 'data', 'in', 'out']);
  const files = (await readdir(out, { recursive: true, withFileTypes: true }))
    .filter((d) => d.isFile())
    .map((d) => relative(out, join(d.parentPath, d.name)));
  for (const f of files) {
    expect(f.split('/'), f).toHaveLength(2); // {service}/{level}.ndjson: no extra levels
    expect(f).not.toMatch(/(^|\/)\.\.?(\/|$)/);
  }
  expect(files).toContain('web/_.ndjson');
  expect(files).toContain('web/___up.ndjson'); // '../up': '/' and '..' become '_'
  expect(files).toContain('_/_.ndjson'); // the empty and missing values, and the non-JSON line
  expect(await written()).toBe(lines.length);
});
