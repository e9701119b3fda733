// The http source's start-up: TLS (HTTPS with a self-signed certificate made at test time),
// and the errors that stop the agent before it serves (unreadable or bad PEM files, an address
// that cannot be bound), each with its code and the key it comes from.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { VesError } from '../../../src/errors.js';
import { selfSigned } from '../../helpers/tls.js';
import { useTempDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { ndjson, post, startSource, type Harness } from './helpers.js';

const tmp = useTempDir('ves-http-src-tls-');
const started: Harness[] = [];
afterEach(async () => {
  for (const h of started.splice(0)) await h.stop();
});

async function start(keys: Record<string, unknown>): Promise<Harness> {
  const h = await startSource(keys);
  started.push(h);
  return h;
}

describe('tls', () => {
  test('serves HTTPS with cert_file and key_file', async () => {
    const { cert, key } = selfSigned(tmp(), 'agg');
    const h = await start({ tls: { cert_file: cert, key_file: key } });
    expect(h.url.startsWith('https://127.0.0.1:')).toBe(true);
    const answer = post(h.url, ndjson(2), { ca: readFileSync(cert) });
    await waitFor(() => h.chunks.length === 1);
    h.commit(1);
    const a = await answer;
    expect(a.status).toBe(200);
    expect(a.json).toEqual({ accepted: 2 });
    // Plain HTTP to the HTTPS port gets no answer of ours.
    const plain = await post(h.url.replace('https:', 'http:'), ndjson(1)).catch((e: Error) => e);
    expect(plain instanceof Error || plain.status === 400).toBe(true);
    expect(h.chunks.length).toBe(1);
  });

  test.each([
    [
      'a missing file',
      (dir: string) => ({ cert_file: join(dir, 'nope.pem'), key_file: join(dir, 'nope.key') }),
      /cannot read .*nope\.pem/,
    ],
    [
      'files that are not PEM',
      (dir: string) => {
        writeFileSync(join(dir, 'bad.pem'), 'not a certificate');
        return { cert_file: join(dir, 'bad.pem'), key_file: join(dir, 'bad.pem') };
      },
      /not usable/,
    ],
  ])('%s: VES_SOURCE_TLS naming the key', async (_what, files, says) => {
    const err = await startSource({ tls: files(tmp()) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VesError);
    expect(err).toMatchObject({ code: 'VES_SOURCE_TLS' });
    expect((err as Error).message).toContain('sources.fleet.tls');
    expect((err as Error).message).toMatch(says);
  });
});

test('an address in use: VES_SOURCE_LISTEN naming the key and why', async () => {
  const h = await start({});
  const address = new URL(h.url).host;
  const err = await startSource({ address }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(VesError);
  expect(err).toMatchObject({ code: 'VES_SOURCE_LISTEN' });
  expect((err as Error).message).toBe(
    `sources.fleet.address ${address}: cannot listen: the port is in use (another agent, or another program)`,
  );
});
