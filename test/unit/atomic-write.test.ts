// Summaries are written atomically: a write that fails leaves the earlier file as it was and no temporary file
// behind; one that succeeds replaces the file whole.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/store/atomic-write.js';

describe('writeFileAtomic', () => {
  it('replaces the whole file and leaves no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pd-atomic-'));
    const p = join(dir, 'summary.json');
    writeFileSync(p, 'old contents that are longer than the new ones');
    writeFileAtomic(p, '{"new":true}\n');
    expect(readFileSync(p, 'utf8')).toBe('{"new":true}\n');
    expect(readdirSync(dir)).toEqual(['summary.json']);
  });

  it('a failed write keeps the earlier file and removes its temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pd-atomic-'));
    // The target is a non-empty directory: the rename fails after the data was written to the temporary file.
    const p = join(dir, 'summary.json');
    mkdirSync(p);
    writeFileSync(join(p, 'keep'), 'x');
    expect(() => writeFileAtomic(p, 'data')).toThrow();
    expect(readdirSync(dir)).toEqual(['summary.json']);
    expect(readFileSync(join(p, 'keep'), 'utf8')).toBe('x');
  });

  it('a directory that cannot be written fails before anything is replaced', () => {
    const p = join(tmpdir(), `pd-atomic-missing-${process.pid}`, 'summary.json');
    expect(() => writeFileAtomic(p, 'data')).toThrow(/ENOENT/);
  });
});
