// Typed values of captured text: int and float spans checked and turned into canonical JSON
// numbers without leaving the Buffer (a record points at the digits; leading zeros and a `+` are
// skipped by moving the start). Shared by templates and the nginx/apache matcher.

import { T_NEG, T_NUM, TYPE, VE, VS } from './captures.js';

/**
 * [vs, ve) as an integer: optional sign, digits. Writes TYPE/VS/VE of record `ro` and returns
 * true, or returns false when the text is not an integer.
 */
export function putInt(
  buf: Uint8Array,
  vs: number,
  ve: number,
  rec: Int32Array,
  ro: number,
): boolean {
  let i = vs;
  const c = buf[i];
  const neg = c === 0x2d;
  if (neg || c === 0x2b) i++;
  const d0 = i;
  while (i < ve && buf[i] >= 0x30 && buf[i] <= 0x39) i++;
  if (i !== ve || i === d0) return false;
  return canonical(buf, vs, d0, ve, neg, rec, ro);
}

/** [vs, ve) as a JSON-representable decimal: `-?\d+(\.\d+)?([eE][+-]?\d+)?` (a `+` sign too). */
export function putFloat(
  buf: Uint8Array,
  vs: number,
  ve: number,
  rec: Int32Array,
  ro: number,
): boolean {
  let i = vs;
  const c = buf[i];
  const neg = c === 0x2d;
  if (neg || c === 0x2b) i++;
  const d0 = i;
  while (i < ve && buf[i] >= 0x30 && buf[i] <= 0x39) i++;
  if (i === d0) return false;
  if (i < ve && buf[i] === 0x2e) {
    const f = ++i;
    while (i < ve && buf[i] >= 0x30 && buf[i] <= 0x39) i++;
    if (i === f) return false;
  }
  if (i < ve && (buf[i] | 0x20) === 0x65) {
    i++;
    if (i < ve && (buf[i] === 0x2b || buf[i] === 0x2d)) i++;
    const x = i;
    while (i < ve && buf[i] >= 0x30 && buf[i] <= 0x39) i++;
    if (i === x) return false;
  }
  if (i !== ve) return false;
  return canonical(buf, vs, d0, ve, neg, rec, ro);
}

/** Point the record at a JSON number: no `+`, no leading zeros (`007` -> `7`, `-00.5` -> `-0.5`). */
function canonical(
  buf: Uint8Array,
  vs: number,
  d0: number,
  ve: number,
  neg: boolean,
  rec: Int32Array,
  ro: number,
): boolean {
  let d = d0;
  while (buf[d] === 0x30 && d + 1 < ve && buf[d + 1] >= 0x30 && buf[d + 1] <= 0x39) d++;
  if (neg && d !== d0) {
    rec[ro + TYPE] = T_NEG; // the `-` and the digits are no longer one span
    rec[ro + VS] = d;
  } else {
    rec[ro + TYPE] = T_NUM;
    rec[ro + VS] = neg ? vs : d;
  }
  rec[ro + VE] = ve;
  return true;
}
