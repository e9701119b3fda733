// `format: clickhouse`: `INSERT INTO db.table FORMAT JSONEachRow` over ClickHouse's HTTP
// interface, the batch's NDJSON as the body unchanged (JSONEachRow is NDJSON).
// https://clickhouse.com/docs/en/interfaces/http (18.16 takes gzip bodies, not zstd).

import type { FormatBuilder } from './index.js';

/**
 * ClickHouse answers every exception with HTTP 500 in 18.16, whether the server is unwell or
 * the batch is bad. These codes are about the data itself ("Code: 27, e.displayText() = ...
 * Cannot parse input", measured on 18.16): the same batch fails the same way every time, so it
 * is refused for good instead of blocking the sink in retries. Codes from ClickHouse's
 * src/Common/ErrorCodes.cpp.
 */
const DATA_ERRORS = new Set([
  6, // CANNOT_PARSE_TEXT
  26, // CANNOT_PARSE_QUOTED_STRING
  27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  38, // CANNOT_PARSE_DATE
  41, // CANNOT_PARSE_DATETIME
  53, // TYPE_MISMATCH
  70, // CANNOT_CONVERT_TYPE
  72, // CANNOT_PARSE_NUMBER
  117, // INCORRECT_DATA (e.g. an unknown field with skip_unknown_fields: false)
]);

export const clickhouse: FormatBuilder = (config, uri) => {
  const o = config.clickhouse;
  if (o === null) throw new Error('schema bug: format clickhouse without clickhouse options');
  // Backticks: names that are not plain identifiers still work (the schema refuses backticks).
  const query = `INSERT INTO \`${o.database}\`.\`${o.table}\` FORMAT JSONEachRow`;
  // encodeURIComponent, not URLSearchParams: that writes spaces as `+`, which older servers
  // may read literally.
  let search = `${uri.search === '' ? '?' : `${uri.search}&`}query=${encodeURIComponent(query)}`;
  if (o.skip_unknown_fields) search += '&input_format_skip_unknown_fields=1';
  if (o.date_time_best_effort) search += '&date_time_input_format=best_effort';
  const base = uri.pathname.endsWith('/') ? uri.pathname : `${uri.pathname}/`;
  return {
    contentType: 'application/x-ndjson',
    path: uri.pathname + search,
    // /ping answers "Ok." without credentials: it proves the server, not the table.
    probe: { method: 'GET', path: `${base}ping`, anyAnswer: false },
    encode: (body) => body,
    refusedForGood: (status, answer) => {
      const m = /^Code: (\d+)/.exec(answer);
      return status >= 500 && m !== null && DATA_ERRORS.has(Number(m[1]));
    },
  };
};
