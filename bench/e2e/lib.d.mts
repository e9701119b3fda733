// Types of ./lib.mjs for the TypeScript tests that reuse it (test/reliability).

export function procUsage(pid: number): {
  cpuS: number;
  peakRssMb: number;
  rssMb: number;
  threads: number;
};

export function lineCounter(path: string): { count(): number; close(): void | false };
