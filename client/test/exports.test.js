// index.d.ts is hand-written for the editor's TypeScript: it must declare exactly what index.js exports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

test('index.d.ts declares every function and class index.js exports, and nothing more', async () => {
  const exported = Object.keys(await import('../src/index.js')).sort();
  const declarations = await readFile(new URL('../src/index.d.ts', import.meta.url), 'utf8');
  const declared = [...declarations.matchAll(/^export declare (?:function|class) (\w+)/gm)].map((match) => match[1]).sort();
  assert.deepEqual(declared, exported);
});
