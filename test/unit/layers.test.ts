// The layering of src/ (README "Architecture"): every import, type-only ones included, goes to the same layer
// or a lower one, and neither files nor folders import each other in a cycle. Reads the import graph with the
// TypeScript compiler's own pre-processor, so it sees exactly the imports tsc sees.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/**
 * Lowest first. A module may import its own layer and the ones below it. Folders are named by their path under
 * src/; top-level files by their name.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['util', 'errors.ts', 'version.ts', 'types'],
  ['config', 'schedule', 'result'],
  ['workload', 'client', 'metrics', 'scrape', 'sim', 'mock'],
  ['run.ts', 'run', 'driver'],
  ['compare', 'report', 'store', 'sweep', 'gate'],
  ['cli'],
  ['index.ts'],
];

/** A module's unit: its top folder under src/, or its file name for files at the top. */
const unitOf = (file: string): string => {
  const rel = relative(SRC, file).split(/[\\/]/);
  return rel.length > 1 ? (rel[0] as string) : (rel[0] as string);
};

const rankOf = (unit: string): number => LAYERS.findIndex((l) => l.includes(unit));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every relative import of every file in src/, resolved to a file (.js specifiers name .ts sources). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = info.importedFiles
      .map((f) => f.fileName)
      .filter((s) => s.startsWith('.'))
      .map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
    graph.set(file, targets);
  }
  return graph;
}

/** The cycles of a directed graph (one per strongly connected component with more than one node, or a self-loop). */
export function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v) as number, idx.get(w) as number));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      for (;;) {
        const w = stack.pop() as string;
        on.delete(w);
        comp.push(w);
        if (w === v) break;
      }
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

const rel = (f: string): string => relative(SRC, f);

describe('layering of src/', () => {
  const graph = importGraph();

  it('every module belongs to a layer', () => {
    const unplaced = [...new Set([...graph.keys()].map(unitOf))].filter((u) => rankOf(u) < 0);
    expect(unplaced, 'add these to LAYERS in test/unit/layers.test.ts and to the README Architecture section').toEqual([]);
  });

  it('no import goes up a layer', () => {
    const upward: string[] = [];
    for (const [from, targets] of graph) {
      for (const to of targets) {
        const [a, b] = [rankOf(unitOf(from)), rankOf(unitOf(to))];
        if (b > a) upward.push(`${rel(from)} (layer ${a}) imports ${rel(to)} (layer ${b})`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('no file imports itself through a cycle', () => {
    expect(cycles(graph).map((c) => c.map(rel).join(' <-> '))).toEqual([]);
  });

  it('no two folders import each other (directly or around a loop)', () => {
    const folders = new Map<string, Set<string>>();
    for (const [from, targets] of graph) {
      const a = unitOf(from);
      const set = folders.get(a) ?? new Set<string>();
      for (const to of targets) if (unitOf(to) !== a) set.add(unitOf(to));
      folders.set(a, set);
    }
    const g = new Map([...folders].map(([k, v]) => [k, [...v]] as const));
    expect(cycles(g).map((c) => c.join(' <-> '))).toEqual([]);
  });

  it('the checker finds a cycle and reports it (so the checks above can fail)', () => {
    const g = new Map<string, string[]>([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(cycles(g)).toEqual([['a', 'b', 'c']]);
    expect(cycles(new Map([['x', ['x']]]))).toEqual([['x']]);
    expect(rankOf('cli')).toBeGreaterThan(rankOf('run.ts'));
  });
});
