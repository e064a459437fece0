import path from 'node:path';
import { fileURLToPath } from 'node:url';
import madge from 'madge';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('the import graph', () => {
  it('has no circle among the modules that ship or run the stack', async () => {
    const graph = await madge(['shared', 'functions', 'infra', 'bin'], { baseDir: root, fileExtensions: ['ts'] });
    // The `#shared/...` imports are followed (a graph that missed them would find no circle either).
    expect(graph.obj()['shared/domain/fanout.ts']).toContain('shared/domain/deliver.ts');
    expect(graph.circular()).toEqual([]);
  }, 60_000);
});
