// Config keys every transform has (`name`, `sources`), defined once so the transforms cannot
// drift apart in names, defaults or docs.

import { array, optional, string } from '../config/schema.js';

/** Metric labels and file names: plain, like component names. */
const NAME = /^[A-Za-z0-9_-]+$/;

export const name = optional(
  string({
    doc: 'The `transform` label of its metrics (ves_transform_dropped_total); default `<type>_<index>`, e.g. `filter_0`.',
    check: (s) => (NAME.test(s) ? undefined : 'use letters, digits, _ and -'),
  }),
);

export const sources = array(string({ doc: 'A source name.' }), {
  single: true,
  default: [],
  doc: 'Names of the sources this transform applies to; empty: every source.',
});
