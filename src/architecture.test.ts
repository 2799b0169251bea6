import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// Tests run from dist/; the rules are about the sources.
const srcRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

/** Which `warden/<part>` subpaths each part may import (the dependency direction of DESIGN.md). */
const allowed: Record<string, string[]> = {
  election: [],
  mfsymlink: [],
  store: ['mfsymlink'],
  server: ['store', 'mfsymlink', 'election'],
  runtime: ['mfsymlink', 'election'],
  cluster: ['server', 'store', 'election'],
  cli: ['cluster', 'server', 'store', 'mfsymlink', 'election', 'runtime'],
  testing: [],
};

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(source: string): string[] {
  const specifiers: string[] = [];
  const pattern = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const match of source.matchAll(pattern)) specifiers.push((match[1] ?? match[2])!);
  return specifiers;
}

test('parts import each other only through warden/<part> subpaths, in the allowed direction', () => {
  const violations: string[] = [];
  for (const file of walk(srcRoot)) {
    const rel = relative(srcRoot, file);
    const part = rel.includes(sep) ? rel.split(sep)[0]! : undefined;
    if (part === undefined) continue; // top-level files such as this test
    const isTest = file.endsWith('.test.ts');
    for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
      if (specifier.startsWith('.')) {
        const target = relative(srcRoot, resolve(dirname(file), specifier));
        const targetPart = target.split(sep)[0];
        if (targetPart === part) continue;
        if (isTest && targetPart === 'testing') continue;
        violations.push(`${rel}: reaches into ${target} (use 'warden/${targetPart}')`);
      } else if (specifier.startsWith('warden/')) {
        const targetPart = specifier.slice('warden/'.length);
        if (!(allowed[part] ?? []).includes(targetPart) && !(isTest && targetPart !== part)) {
          violations.push(`${rel}: '${part}' may not depend on '${specifier}'`);
        }
      }
    }
  }
  assert.deepEqual(violations, []);
});

test('the rule catches a reach into another part', () => {
  assert.deepEqual(importsOf(`import { x } from '../store/files.js';\nconst m = await import('warden/server');`), [
    '../store/files.js',
    'warden/server',
  ]);
});
