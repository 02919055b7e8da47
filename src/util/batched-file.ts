// Lines gathered in memory and written in large blocks with one synchronous write: a write call per line costs
// far more (a thread-pool hop each) and would slow the process whose timing the lines record.
import { closeSync, openSync, writeSync } from 'node:fs';

export class BatchedFile {
  #fd: number;
  #parts: string[] = [];
  #bytes = 0;
  readonly blockBytes: number;

  constructor(path: string, blockBytes = 256 * 1024) {
    this.#fd = openSync(path, 'w');
    this.blockBytes = blockBytes;
  }

  write(line: string): void {
    this.#parts.push(line);
    this.#bytes += line.length;
    if (this.#bytes >= this.blockBytes) this.flush();
  }

  flush(): void {
    if (this.#parts.length === 0) return;
    writeSync(this.#fd, this.#parts.join(''));
    this.#parts = [];
    this.#bytes = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.#fd);
  }
}
