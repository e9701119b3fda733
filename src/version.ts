// The agent's version: esbuild replaces __VES_VERSION__ with package.json's version at build
// time; unbundled (tests) it reads as a dev build.
declare const __VES_VERSION__: string | undefined;
export const VERSION: string = typeof __VES_VERSION__ === 'string' ? __VES_VERSION__ : '0.0.0-dev';
