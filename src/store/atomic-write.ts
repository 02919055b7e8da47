// Writes a whole file so that a reader, a crash or a full disk never leaves it half written: the data goes to a
// temporary file beside it, is flushed to disk, and is renamed over the target (atomic on POSIX file systems).
// On failure the temporary file is removed and the error is thrown; an earlier version of the target is untouched.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export function writeFileAtomic(path: string, data: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    const buf = Buffer.from(data, 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // The write error below is the one that matters.
      }
    }
    rmSync(tmp, { force: true });
    throw err;
  }
}
