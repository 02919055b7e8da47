#!/usr/bin/env node
// Lists the longest functions (declarations, methods, arrows, function expressions) and the largest files under
// src/, for the "no function over ~120 lines" rule. Nested functions count inside their parent too.
// Usage: node scripts/function-lengths.mjs [--top N] [--over L]   (exits 1 when --over is given and one is longer)
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (n, d) => (args.includes(n) ? Number(args[args.indexOf(n) + 1]) : d);
const top = opt('--top', 15);
const over = opt('--over', undefined);
const files = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : []));
const fns = [];
const sizes = [];
for (const f of files(join(root, 'src'))) {
  const text = readFileSync(f, 'utf8');
  sizes.push({ file: relative(root, f), lines: text.split('\n').length });
  const sf = ts.createSourceFile(f, text, ts.ScriptTarget.Latest, true);
  const visit = (node, owner) => {
    let name = owner;
    if (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node) || ts.isConstructorDeclaration(node) || ts.isGetAccessor(node)) {
      const n = node.name?.getText?.(sf) ?? (ts.isVariableDeclaration(node.parent) ? node.parent.name.getText(sf) : ts.isConstructorDeclaration(node) ? 'constructor' : '(anonymous)');
      const a = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const b = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      name = owner ? `${owner} > ${n}` : n;
      fns.push({ file: relative(root, f), name, line: a + 1, lines: b - a + 1 });
    }
    ts.forEachChild(node, (c) => visit(c, name));
  };
  visit(sf, '');
}
fns.sort((x, y) => y.lines - x.lines);
sizes.sort((x, y) => y.lines - x.lines);
console.log('longest functions:');
for (const f of fns.slice(0, top)) console.log(`  ${String(f.lines).padStart(4)}  ${f.file}:${f.line}  ${f.name}`);
console.log('largest files:');
for (const s of sizes.slice(0, top)) console.log(`  ${String(s.lines).padStart(4)}  ${s.file}`);
if (over !== undefined && fns.some((f) => f.lines > over)) process.exit(1);
