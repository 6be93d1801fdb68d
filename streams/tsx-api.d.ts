// tsx's CommonJS API (tsx/cjs/api), typed for this project's `moduleResolution: node`, which does not read package exports.
declare module 'tsx/cjs/api' {
  /** Loads a TypeScript or JavaScript module, compiled on the fly, resolved from `fromFile`. */
  export function require(id: string, fromFile: string | URL): unknown;
}
