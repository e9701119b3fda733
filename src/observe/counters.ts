// The agent's running totals, plain numbers bumped on the hot path (no objects per event);
// the stats line and, later, /metrics read them.

export class Counters {
  linesIn = 0;
  bytesIn = 0;
  truncatedLines = 0;
  eventsOut = 0;
  bytesOut = 0;
  batches = 0;
  sinkErrors = 0;
  backpressurePauses = 0;
}
