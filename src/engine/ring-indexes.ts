// Slot indexes of a ring's shared Int32Array header, in ONE file so the producer's thread and the
// consumer's thread cannot disagree about them (pinojs/thread-stream lib/indexes.js does the same).
// The layout of the whole SharedArrayBuffer, and who writes what, is drawn in ./ring.ts.

/** Byte offset in the data area where the next record goes. Only the producer stores it. */
export const WRITE = 0;
/** Byte offset in the data area of the oldest unread record. Only the consumer stores it. */
export const READ = 1;
/** 1 while the consumer sleeps (or is about to) on SIGNAL: the producer then rings SIGNAL. */
export const READER_WAITING = 2;
/** 1 while the producer sleeps (or is about to) on READ: the consumer then notifies READ. */
export const WRITER_WAITING = 3;
/** OPEN, or CLOSED once the producer will write no more (the consumer drains, then ends). */
export const STATE = 4;
/**
 * The consumer's doorbell: the producer adds 1 (and notifies) after a commit while the consumer
 * waits, and on close. The consumer sleeps on it, not on WRITE, so that close() wakes it too.
 */
export const SIGNAL = 5;

/** Header words; 8 keeps the data area on an 8-byte boundary (slots 6 and 7 are spare). */
export const HEADER_WORDS = 8;
export const HEADER_BYTES = HEADER_WORDS * 4;

/** STATE values. */
export const OPEN = 0;
export const CLOSED = 1;

/** A record's length word that says "nothing more before the end: continue at offset 0". */
export const PAD = -1;
