// `format: ndjson`: the batch's NDJSON bytes as the body, unchanged: the generic endpoint, and
// what our own http source (an aggregator) takes.

import type { FormatBuilder } from './index.js';

export const ndjson: FormatBuilder = (_config, uri) => {
  const path = uri.pathname + uri.search;
  return {
    contentType: 'application/x-ndjson',
    path,
    probe: { method: 'OPTIONS', path, anyAnswer: true },
    encode: (body) => body,
  };
};
