// Types of @mongodb-js/zstd@1.2.2's native loader (bindings.js), which compress.ts imports
// directly: the package's index.js drops the level argument, its index.d.ts types only that.

declare module '@mongodb-js/zstd/bindings.js' {
  export function compress(data: Buffer, level?: number): Promise<Buffer>;
  export function decompress(data: Buffer): Promise<Buffer>;
}
