/**
 * The part of the WebAssembly JavaScript API the WebP decoder uses. Node has it as a global;
 * TypeScript declares it only in its DOM and worker libraries, which a Node project leaves out.
 */
declare namespace WebAssembly {
  type ImportValue = (...args: never[]) => unknown;
  type Imports = Record<string, Record<string, ImportValue>>;
  class Module {
    constructor(bytes: ArrayBufferView | ArrayBuffer);
  }
  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
}
