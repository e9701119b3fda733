// Shared by the transform tests: a config from YAML text, and chunks of lines run through the
// real stages (parse -> transforms -> encode) or through a source's chain alone with a pinned
// clock.

import { parseConfig } from '../../src/config/index.js';
import type { AgentConfig } from '../../src/config/types.js';
import { Counters } from '../../src/observe/counters.js';
import { Captures, LE, LINE_STRIDE, LS } from '../../src/parsers/captures.js';
import { compileParser } from '../../src/parsers/index.js';
import { AGENT_KEYS } from '../../src/parsers/keys.js';
import { Processor } from '../../src/pipeline/process.js';
import type { LineChunk, Wants } from '../../src/pipeline/types.js';
import { TransformStage } from '../../src/transforms/stage.js';

/** A config with one source `app` (its YAML lines given) and the transforms given. */
export function config(
  source: string,
  transforms: string,
  env: NodeJS.ProcessEnv = {},
): AgentConfig {
  const text = `sources:
  app:
    type: stdin
${source
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => `    ${l}`)
  .join('\n')}
transforms:
${transforms
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => `  ${l}`)
  .join('\n')}
sinks:
  out: {type: stdout}
`;
  return parseConfig(text, 'agent.yaml', env);
}

export function chunk(lines: string[], sourceId = 'app'): LineChunk {
  const buf = Buffer.from(lines.map((l) => l + '\n').join(''));
  return {
    sourceId,
    path: '/var/log/app.log',
    buf,
    lines: lines.length,
    truncated: false,
    mark: null,
    readAt: 0,
  };
}

const BOTH: Wants = { ndjson: true, raw: true };

/** Every line through a Processor; the events (parsed JSON) and raw lines that come out. */
export function processLines(
  cfg: AgentConfig,
  lines: string[],
  wants: Wants = BOTH,
): { events: Record<string, unknown>[]; raw: string[]; counters: Counters; count: number } {
  const counters = new Counters();
  const p = new Processor(cfg, wants, counters);
  const block = p.process(chunk(lines));
  const events = block.ndjson === null ? [] : ndjson(block.ndjson);
  const raw = block.raw === null ? [] : block.raw.toString().split('\n').slice(0, -1);
  return { events, raw, counters, count: block.events };
}

export function ndjson(buf: Buffer): Record<string, unknown>[] {
  return buf
    .toString()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A source's chain alone, with a pinned clock: kept lines per call of run(). */
export function chainOf(
  cfg: AgentConfig,
  clock: { now: number },
  counters = new Counters(),
  sourceId = 'app',
): (lines: string[]) => string[] {
  const stage = new TransformStage(cfg, { counters, now: () => clock.now, env: {} });
  const sc = cfg.sources[sourceId];
  const parser = compileParser(sc.parser, {
    templates: sc.templates ?? [],
    reserved: [...AGENT_KEYS, ...Object.keys(stage.fieldsFor(sourceId))],
  });
  const chain = stage.chainFor(sourceId, parser);
  const cap = new Captures();
  return (lines) => {
    const c = chunk(lines, sourceId);
    cap.split(c.buf, c.lines);
    if (parser !== null) parser.parse(cap);
    if (chain !== null) chain.run(cap);
    const out: string[] = [];
    for (let i = 0; i < cap.n; i++) {
      out.push(
        c.buf.toString('utf8', cap.line[i * LINE_STRIDE + LS], cap.line[i * LINE_STRIDE + LE]),
      );
    }
    return out;
  };
}
