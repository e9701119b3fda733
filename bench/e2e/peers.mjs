#!/usr/bin/env node
// Side by side, in one run (issue #3): the BUILT binary against syslog-ng (Debian's
// syslog-ng-core) and, when it can be unpacked, rsyslog, on the same generated, page-cached
// nginx access log, each collector reading it from the beginning and writing every line to a
// file. Two kinds of work:
//   raw    every line as read, unchanged                 (ours: parser raw, encoding raw)
//   nginx  each line parsed into nginx fields -> JSON   (ours: parser nginx, encoding ndjson)
// For each collector: lines/s (spawn -> last line in the output file), CPU us/line and CPU-s per
// million lines (user+sys of the process, every thread, from /proc), peak RSS (VmHWM); then the
// ratios ours/peer. The first output line of each nginx run is checked to be JSON with the
// parsed fields, so a peer config that stopped parsing shows up as an error, not as a figure.
//
//   npm run build && node bench/e2e/peers.mjs [--lines 2000000] [--seed 1] [--runs 3]
//       [--work raw,nginx] [--peers syslog-ng,rsyslog] [--workers auto]
//
// rsyslog conflicts with syslog-ng-core as a Debian package, so it is fetched with
// `apt-get download` and unpacked with `dpkg -x` into $TMPDIR/ves-bench-rsyslog (kept for the next
// run); if that fails it is skipped with the reason.
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { machineLine, nginxCorpus, untilLinesOut } from './lib.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? def : args[i + 1];
};
const lines = Number(opt('lines', '2000000'));
const seed = Number(opt('seed', '1'));
const runs = Number(opt('runs', '3'));
const works = opt('work', 'raw,nginx').split(',');
const peerNames = opt('peers', 'syslog-ng,rsyslog').split(',');
const workers = opt('workers', 'auto');
const bin = resolve('dist/ves-log-collector.cjs');

const NGINX_FIELDS = [
  'remote_addr',
  'remote_user',
  'time_local',
  'method',
  'path',
  'protocol',
  'status',
  'body_bytes_sent',
  'http_referer',
  'http_user_agent',
];

/** Ours: a config file, file sink. */
const ours = {
  name: 'ves-log-collector',
  prepare: () => null,
  start(dir, work, corpus, out) {
    const cfg = join(dir, 'agent.yaml');
    const [parser, encoding] = work === 'raw' ? ['raw', 'raw'] : ['nginx', 'ndjson'];
    writeFileSync(
      cfg,
      `data_dir: ${join(dir, 'data')}
workers: ${workers}
sources:
  bench: {type: file, include: [${corpus}], parser: ${parser}}
sinks:
  out: {type: file, path: ${out}, encoding: ${encoding}}
`,
    );
    return spawn(process.execPath, [bin, '--config', cfg, '--log-level', 'warn'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  },
};

/**
 * syslog-ng 3.38 as Debian ships it, in the foreground with its own config, persist file, pid
 * file and control socket in the run's temp dir. Tuned for catch-up throughput: 1,000 lines
 * per fetch, a 10,000-message window and 1,000 lines per write (the defaults, 10, 100 and 1,
 * are for light traffic: raw at 500,000 lines here took 9.0 CPU us/line with them, 4.1 with the
 * first two, 3.3 with all three; larger values measured no better). nginx: csv-parser (space-delimited, "" and [] quoted; nginx writes `"`
 * in a field as \x22, so no escape handling is needed), a second csv-parser splits the request
 * line, date-parser reads $time_local as the event time, and format-json writes the same fields
 * as ours (status and body_bytes_sent as numbers, timestamp, source file, host).
 */
const syslogNg = {
  name: 'syslog-ng',
  bin: '/usr/sbin/syslog-ng',
  prepare() {
    if (!existsSync(this.bin)) return `${this.bin} not found (apt-get install syslog-ng-core)`;
    const v = spawnSync(this.bin, ['--version'], { encoding: 'utf8' });
    this.name = `syslog-ng ${/Installer-Version: (\S+)/.exec(v.stdout)?.[1] ?? '?'}`;
    return null;
  },
  start(dir, work, corpus, out) {
    const parse =
      work === 'raw'
        ? ''
        : `parser p_nginx { csv-parser(columns("remote_addr","ident","remote_user","time_local","request","status","body_bytes_sent","http_referer","http_user_agent") delimiters(" ") quote-pairs('""[]')); };
parser p_request { csv-parser(columns("method","path","protocol") delimiters(" ") template("\${request}")); };
parser p_date { date-parser(format("%d/%b/%Y:%H:%M:%S %z") template("\${time_local}")); };`;
    const template =
      work === 'raw'
        ? '${MESSAGE}\\n'
        : '$(format-json timestamp=${ISODATE} source=${FILE_NAME} host=${HOST} remote_addr=${remote_addr} remote_user=${remote_user} time_local=${time_local} request=${request} method=${method} path=${path} protocol=${protocol} status=int64(${status}) body_bytes_sent=int64(${body_bytes_sent}) http_referer=${http_referer} http_user_agent=${http_user_agent})\\n';
    const conf = join(dir, 'syslog-ng.conf');
    writeFileSync(
      conf,
      `@version: 3.38
options { threaded(yes); stats-freq(0); };
source s { file("${corpus}" follow-freq(1) flags(no-parse) log-fetch-limit(1000) log-iw-size(10000)); };
${parse}
destination d { file("${out}" template("${template}") flush-lines(1000)); };
log { source(s); ${work === 'raw' ? '' : 'parser(p_nginx); parser(p_request); parser(p_date); '}destination(d); };
`,
    );
    return spawn(
      this.bin,
      ['-F', '--no-caps', '-f', conf, '-R', join(dir, 'persist'), '-p', join(dir, 'pid')].concat([
        '-c',
        join(dir, 'ctl'),
      ]),
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  },
};

/**
 * rsyslog 8.2302 (Debian), unpacked from its .deb with the three libraries it needs beyond
 * this image's. imfile in inotify mode; raw: the message as is; nginx: mmnormalize with a
 * liblognorm rulebase (status and bytes as numbers), written as $!all-json-plain (rsyslog adds
 * the file name and offset under "metadata"; it has no time_local -> timestamp conversion).
 */
const rsyslog = {
  name: 'rsyslog',
  root: join(tmpdir(), 'ves-bench-rsyslog'),
  prepare() {
    const lib = join(this.root, 'usr/lib/x86_64-linux-gnu');
    this.bin = join(this.root, 'usr/sbin/rsyslogd');
    if (!existsSync(this.bin)) {
      mkdirSync(this.root, { recursive: true });
      const dl = spawnSync(
        'apt-get',
        ['download', 'rsyslog', 'libestr0', 'libfastjson4', 'liblognorm5'],
        { cwd: this.root, encoding: 'utf8' },
      );
      if (dl.status !== 0) return `apt-get download failed: ${(dl.stderr || dl.error).toString()}`;
      for (const deb of readdirSync(this.root).filter((f) => f.endsWith('.deb'))) {
        const x = spawnSync('dpkg', ['-x', deb, '.'], { cwd: this.root, encoding: 'utf8' });
        if (x.status !== 0) return `dpkg -x ${deb} failed: ${x.stderr}`;
      }
    }
    this.env = { ...process.env, LD_LIBRARY_PATH: lib };
    const v = spawnSync(this.bin, ['-v'], { encoding: 'utf8', env: this.env });
    if (v.status !== 0) return `${this.bin} -v failed: ${v.stderr}`;
    this.name = `rsyslog ${/rsyslogd\s+(\S+)/.exec(v.stdout)?.[1] ?? '?'}`;
    this.modules = join(lib, 'rsyslog');
    return null;
  },
  start(dir, work, corpus, out) {
    const work_ = join(dir, 'rsyslog-work');
    mkdirSync(work_);
    const rb = join(dir, 'nginx.rb');
    // liblognorm v2: `char-to` stops before its extradata character; numbers as JSON numbers.
    const q = 'char-to{"extradata":"\\""}';
    writeFileSync(
      rb,
      `version=2
rule=:%remote_addr:word% %ident:word% %remote_user:word% [%time_local:char-to{"extradata":"]"}%] "%method:word% %path:word% %protocol:${q}%" %status:number{"format":"number"}% %body_bytes_sent:number{"format":"number"}% "%http_referer:${q}%" "%http_user_agent:${q}%"
`,
    );
    const conf = join(dir, 'rsyslog.conf');
    writeFileSync(
      conf,
      `global(workDirectory="${work_}")
module(load="imfile" mode="inotify")
${work === 'raw' ? '' : 'module(load="mmnormalize")'}
template(name="out" type="string" string="${work === 'raw' ? '%msg%' : '%$!all-json-plain%'}\\n")
ruleset(name="r") {
  ${work === 'raw' ? '' : `action(type="mmnormalize" rulebase="${rb}")`}
  action(type="omfile" file="${out}" template="out")
}
input(type="imfile" File="${corpus}" Tag="bench" ruleset="r")
`,
    );
    return spawn(this.bin, ['-n', '-f', conf, '-i', join(dir, 'pid'), '-M', this.modules], {
      stdio: ['ignore', 'ignore', 'pipe'], // its notices are shown only if the run fails
      env: this.env,
    });
  },
};

const PEERS = { 'syslog-ng': syslogNg, rsyslog };

/** One collector, one run: spawn, wait for every line in its output, stop it, check a line. */
async function runOnce(root, collector, work, corpus, i) {
  const dir = join(root, `${collector.name.split(' ')[0]}-${work}-${i}`.replace(/\W/g, '_'));
  mkdirSync(dir);
  const out = join(dir, 'out.log');
  const t0 = performance.now();
  const child = collector.start(dir, work, corpus, out);
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const exited = new Promise((r) => child.once('exit', r));
  try {
    const r = await untilLinesOut(child.pid, out, lines, t0);
    if (work === 'nginx') checkParsed(collector.name, out);
    return r;
  } catch (err) {
    if (stderr) console.error(`${collector.name} stderr:\n${stderr}`);
    throw err;
  } finally {
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The first output line must be JSON carrying the parsed nginx fields, numbers as numbers. */
function checkParsed(name, out) {
  const fd = openSync(out, 'r');
  const buf = Buffer.alloc(64 << 10); // one nginx line as JSON is < 1 KB
  const head = buf.toString('utf8', 0, readSync(fd, buf, 0, buf.length, 0)).split('\n')[0];
  closeSync(fd);
  const ev = JSON.parse(head);
  const missing = NGINX_FIELDS.filter((f) => !(f in ev));
  if (missing.length || typeof ev.status !== 'number')
    throw new Error(`${name}: first output line lacks parsed fields ${missing}: ${head}`);
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const usPerLine = (r) => (r.cpuS * 1e6) / lines;

const root = mkdtempSync(join(tmpdir(), 'ves-peers-'));
try {
  const corpus = join(root, 'access.log');
  const { mb } = nginxCorpus(corpus, lines, seed);
  console.log(machineLine());
  console.log(
    `corpus: ${fmt(lines)} nginx lines (${mb.toFixed(0)} MB, seed ${seed}, page-cached), host ${hostname()}; ` +
      `each collector reads it from the beginning into a file; best of ${runs} by lines/s; ours with workers: ${workers}`,
  );
  const collectors = [ours];
  for (const name of peerNames) {
    const peer = PEERS[name];
    if (!peer) throw new Error(`--peers: unknown ${name} (known: ${Object.keys(PEERS)})`);
    const why = peer.prepare();
    if (why) console.log(`skipping ${name}: ${why}`);
    else collectors.push(peer);
  }
  for (const work of works) {
    console.log(
      `\n${work}: ${work === 'raw' ? 'every line as read -> file' : 'nginx fields -> one JSON object per line -> file'}`,
    );
    const best = new Map();
    for (const c of collectors) {
      const rs = [];
      for (let i = 0; i < runs; i++) rs.push(await runOnce(root, c, work, corpus, i));
      const b = rs.reduce((x, y) => (x.seconds < y.seconds ? x : y));
      best.set(c, b);
      console.log(
        `  ${c.name.padEnd(20)} ${fmt(lines / b.seconds).padStart(10)} lines/s  CPU ${usPerLine(b).toFixed(2)} us/line ` +
          `= ${(b.cpuS / (lines / 1e6)).toFixed(2)} CPU-s per million lines (runs ${rs.map((r) => usPerLine(r).toFixed(2)).join('/')})  ` +
          `peak RSS ${b.peakRssMb.toFixed(0)} MB`,
      );
    }
    const o = best.get(ours);
    for (const c of collectors.slice(1)) {
      const p = best.get(c);
      console.log(
        `  ours / ${c.name}: ${(p.seconds / o.seconds).toFixed(2)}x the lines/s, ` +
          `${(o.cpuS / p.cpuS).toFixed(2)}x the CPU per line, ${(o.peakRssMb / p.peakRssMb).toFixed(2)}x the peak RSS`,
      );
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
