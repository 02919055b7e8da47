// Starts a pd-bench server entry point (the mock or the simulated stack) as its own child process, so it
// never shares the harness's event loop; resolves once it prints its ready line. With --exit-on-stdin-close the
// child exits when our stdin pipe to it closes or it is handed to another parent, so it cannot outlive us on any
// exit path (SIGKILL included).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface SpawnedServer {
  url: string;
  port: number;
  /** The ready line the server printed (its self-description). */
  ready: Record<string, unknown>;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function spawnServer(entry: 'mock-main' | 'sim-main', args: string[], timeoutMs = 15_000): Promise<SpawnedServer> {
  // The mock lives in mock/, the simulated stack here in sim/.
  const script = fileURLToPath(new URL(entry === 'mock-main' ? '../mock/mock-main.js' : `./${entry}.js`, import.meta.url));
  const child = spawn(process.execPath, [script, '--port', '0', '--exit-on-stdin-close', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    // Own process group: the terminal's Ctrl-C reaches only the harness, which then records in-flight turns as
    // cancelled and stops the server itself.
    detached: true,
  });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    if (stderr.length < 4096) stderr += b.toString();
  });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} did not report ready within ${timeoutMs} ms${stderr ? `: ${stderr.trim()}` : ''}`));
    }, timeoutMs);
    const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    rl.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (msg.event === 'ready' && typeof msg.port === 'number') {
          clearTimeout(timer);
          rl.close();
          resolve(msg);
        }
      } catch {
        // not our ready line
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited with code ${code} before it was ready${stderr ? `: ${stderr.trim()}` : ''}`));
    });
  });

  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin?.end();
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  };
  const port = ready.port as number;
  return { url: `http://127.0.0.1:${port}/v1`, port, ready, child, stop };
}
