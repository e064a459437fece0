/** The part of madge's API the import-graph test uses (madge ships no types). */
declare module 'madge' {
  interface MadgeResult {
    /** Each module's path (relative to `baseDir`) → the modules it imports. */
    obj(): Record<string, string[]>;
    /** Each import circle, as the modules on it. */
    circular(): string[][];
  }
  function madge(paths: string | string[], config?: { baseDir?: string; fileExtensions?: string[]; tsConfig?: string | object }): Promise<MadgeResult>;
  export default madge;
}
