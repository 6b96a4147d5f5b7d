/**
 * The layers of docs/architecture.md, checked on every relative import of the suite's own code
 * (type-only and dynamic imports included): core/ at the bottom, probes/ and e2e/ on it, runner/ on
 * top, the reference stack (fixtures/stack/) apart; and no two production modules that import each
 * other, however indirectly. Tests may use the stack (they start it); production code never does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../fixtures/stack/child.ts';

const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git', 'reports', 'test-output']);
const LAYERS = ['core', 'probes', 'e2e', 'runner', 'stack'] as const;
type Layer = (typeof LAYERS)[number];
/** What each layer's production code may import. */
const MAY_IMPORT: Record<Layer, readonly Layer[]> = {
  core: ['core'],
  probes: ['core', 'probes'],
  e2e: ['core', 'e2e'],
  runner: ['core', 'probes', 'e2e', 'runner'],
  stack: ['stack'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIPPED_DIRS.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.m?ts$/.test(entry.name) ? [relative(REPO_ROOT, path)] : [];
  });
}

/** The repository files a source file imports by relative path (static, type-only, re-exports, dynamic). */
export function relativeImports(file: string, source: string): string[] {
  const specifiers = [...source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)];
  return specifiers.map((m) => relative(REPO_ROOT, resolve(REPO_ROOT, dirname(file), m[1] ?? m[2]!)));
}

function layerOf(file: string): Layer | undefined {
  if (file.startsWith('fixtures/stack/')) return 'stack';
  const top = file.split('/')[0];
  return (LAYERS as readonly string[]).includes(top!) ? (top as Layer) : undefined;
}

const isProduction = (file: string) => !/\.test\.ts$|\.spec\.ts$|(^|\/)test-support\//.test(file) && !file.startsWith('fixtures/stack/');

/** Sets of modules that reach each other through imports (Tarjan's strongly connected components, size > 1). */
function importCircles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  let next = 0;
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next++;
    stack.push(node);
    onStack.add(node);
    for (const dep of graph.get(node) ?? []) {
      if (!graph.has(dep)) continue;
      if (!index.has(dep)) {
        visit(dep);
        low.set(node, Math.min(low.get(node)!, low.get(dep)!));
      } else if (onStack.has(dep)) {
        low.set(node, Math.min(low.get(node)!, index.get(dep)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1) circles.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return circles;
}

const files = sourceFiles(REPO_ROOT);
const imports = new Map(files.map((file) => [file, relativeImports(file, readFileSync(join(REPO_ROOT, file), 'utf8'))]));

describe('architecture', () => {
  test('the import reader sees every form of import', () => {
    const source = [
      "import { a } from './a.ts';",
      "import type { B } from '../core/b.ts';",
      "export { c } from './c.ts';",
      'const d = await import(\'./d.ts\');',
      "import {\n  e,\n  f,\n} from './ef.ts';",
    ].join('\n');
    expect(relativeImports('probes/x.ts', source)).toEqual(['probes/a.ts', 'core/b.ts', 'probes/c.ts', 'probes/d.ts', 'probes/ef.ts']);
  });

  test('no import runs back up a layer, and production code never imports the reference stack', () => {
    expect(files.length).toBeGreaterThan(100);
    const violations: string[] = [];
    for (const [file, deps] of imports) {
      const from = layerOf(file);
      if (!from) continue;
      for (const dep of deps) {
        const to = layerOf(dep);
        if (!to) continue;
        // Tests of any layer may start the reference stack; nothing else crosses into it.
        if (to === 'stack' && from !== 'stack' && !isProduction(file)) continue;
        if (!MAY_IMPORT[from].includes(to)) violations.push(`${file} → ${dep}`);
      }
    }
    expect(violations).toEqual([]);
  });

  test('no two production modules import each other, however indirectly', () => {
    const production = new Map([...imports].filter(([file]) => isProduction(file) && layerOf(file)).map(([file, deps]) => [file, deps.filter(isProduction)]));
    expect(production.size).toBeGreaterThan(50);
    expect(importCircles(production)).toEqual([]);
    // the reader finds a circle when there is one
    expect(importCircles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual([['a', 'b', 'c']]);
  });
});

/** Packages the long-lived monitor process must never load (each with the reason, cited in the module that avoids it). */
const NOT_IN_THE_MONITOR: Record<string, string> = {
  undici: "its WebAssembly parser costs the monitor ~25 MB; probes and the Coolify client use Node's http client",
  '@playwright/test': 'the monitor runs browser flows in a child process',
  'playwright-core': 'the monitor runs browser flows in a child process',
};

/** Every production module the monitor process can load: its entry and whatever it imports, statically or lazily. */
function monitorModules(): string[] {
  const seen = new Set<string>();
  const queue = ['runner/monitor/index.ts'];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file) || !imports.has(file)) continue;
    seen.add(file);
    queue.push(...imports.get(file)!.filter(isProduction));
  }
  return [...seen];
}

describe('the monitor process', () => {
  test('never loads a package it is kept free of', () => {
    const modules = monitorModules();
    expect(modules).toContain('probes/registry.ts');
    expect(modules).not.toContain('runner/monitor/browser-child.ts'); // the child's own process
    // Imports that load a package at run time: type-only ones (`import type`, `typeof import(…)`) do not.
    const packageImports = /(?:^|\n)\s*(import|export)(\s+type)?\s[^'";]*?from\s+['"]([^'".][^'"]*)['"]|(typeof\s+)?\bimport\(\s*['"]([^'".][^'"]*)['"]\s*\)/g;
    const loaded = modules.flatMap((file) =>
      [...readFileSync(join(REPO_ROOT, file), 'utf8').matchAll(packageImports)]
        .filter((m) => !m[2] && !m[4])
        .map((m) => m[3] ?? m[5]!)
        .filter((name) => name in NOT_IN_THE_MONITOR)
        .map((name) => `${file} → ${name} (${NOT_IN_THE_MONITOR[name]})`),
    );
    expect(loaded).toEqual([]);
  });
});
