// No import cycle in src/: every module's imports (type-only ones included, since a cycle of
// types is still a cycle of knowledge between files) form a directed acyclic graph.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Relative specifiers of every import and re-export (`from '...'`, `import('...')`) of a file. */
export function importsOf(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.[^'"]+)['"]/gm)) out.push(m[1]);
  return out;
}

/** The first cycle found by depth-first search, as a list of files, or null. */
export function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string): string[] | null => {
    if (state.get(f) === 'done') return null;
    if (state.get(f) === 'open') return [...stack.slice(stack.indexOf(f)), f];
    state.set(f, 'open');
    stack.push(f);
    for (const g of graph.get(f) ?? []) {
      const c = visit(g);
      if (c) return c;
    }
    stack.pop();
    state.set(f, 'done');
    return null;
  };
  for (const f of graph.keys()) {
    const c = visit(f);
    if (c) return c;
  }
  return null;
}

test('the cycle finder finds a planted cycle and accepts a diamond', () => {
  expect(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]]))).toEqual(['a', 'b', 'c', 'a']);
  expect(findCycle(new Map([['a', ['b', 'c']], ['b', ['d']], ['c', ['d']], ['d', []]]))).toBeNull();
  expect(importsOf(`import type { A } from './a.js';\nexport * from "../b.js";\nconst m = import('./c.js');\nimport './d.js';`))
    .toEqual(['./a.js', '../b.js', './c.js', './d.js']);
});

test('src/ has no import cycle', () => {
  const all = files(SRC);
  const graph = new Map<string, string[]>();
  for (const f of all) {
    const deps = importsOf(readFileSync(f, 'utf8')).map((s) => resolve(dirname(f), s.replace(/\.js$/, '.ts')));
    for (const d of deps) expect(all, `${relative(SRC, f)} imports a missing ${relative(SRC, d)}`).toContain(d);
    graph.set(f, deps);
  }
  expect(graph.size).toBeGreaterThan(20);
  const cycle = findCycle(graph);
  expect(cycle?.map((f) => relative(SRC, f)).join(' → ') ?? null).toBeNull();
});
