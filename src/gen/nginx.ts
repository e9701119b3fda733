// Realistic nginx "combined" access-log lines from a seeded PRNG: the demo's traffic, the
// bench corpus and the test fixtures all come from here, so every run is reproducible.

const METHODS = ['GET', 'GET', 'GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'HEAD'];
const PATHS = [
  '/',
  '/index.html',
  '/api/v1/users',
  '/api/v1/orders',
  '/api/v1/orders/{id}',
  '/static/app.js',
  '/static/app.css',
  '/images/logo.png',
  '/login',
  '/logout',
  '/search?q={q}',
  '/health',
  '/api/v1/products/{id}',
  '/cart',
  '/checkout',
  '/favicon.ico',
];
const STATUSES = [
  200, 200, 200, 200, 200, 200, 200, 301, 304, 304, 400, 401, 403, 404, 404, 500, 502, 503,
];
const AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0',
  'curl/8.5.0',
  'Googlebot/2.1 (+http://www.google.com/bot.html)',
  'kube-probe/1.29',
];
const REFERERS = [
  '-',
  '-',
  'https://example.com/',
  'https://www.google.com/',
  'https://shop.example.com/cart',
];
const USERS = ['-', '-', '-', '-', 'alice', 'bob'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** mulberry32: tiny, fast, good enough for traffic shapes; same seed, same lines. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad2 = (n: number) => (n < 10 ? '0' + n : String(n));

/** nginx $time_local, e.g. `23/Nov/2026:11:56:00 +0000`. */
export function timeLocal(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000`;
}

export interface NginxGenerator {
  /** The next line, without its newline. `ms` is the request time. */
  line(ms: number): string;
}

export function nginxGenerator(seed = 1): NginxGenerator {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  return {
    line(ms: number): string {
      const ip = `${10 + Math.floor(rnd() * 200)}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}.${1 + Math.floor(rnd() * 254)}`;
      const path = pick(PATHS)
        .replace('{id}', String(1 + Math.floor(rnd() * 99999)))
        .replace('{q}', pick(['shoes', 'red+hat', 'laptop', 'coffee']));
      const status = pick(STATUSES);
      const bytes = status === 304 ? 0 : Math.floor(rnd() * 50000);
      return `${ip} - ${pick(USERS)} [${timeLocal(ms)}] "${pick(METHODS)} ${path} HTTP/1.1" ${status} ${bytes} "${pick(REFERERS)}" "${pick(AGENTS)}"`;
    },
  };
}

/** `count` lines joined with `\n` (each ending in one), for corpora and fixtures. */
export function nginxLines(count: number, seed = 1, startMs = Date.UTC(2026, 10, 23, 12)): string {
  const g = nginxGenerator(seed);
  const out: string[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = g.line(startMs + i);
  return out.join('\n') + '\n';
}
