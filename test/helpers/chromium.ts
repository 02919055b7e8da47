// Headless Chromium for tests, driven over the DevTools protocol (one WebSocket, flattened target sessions), so a
// page can be checked the way a reader's browser sees it: console errors, uncaught exceptions, error log entries,
// dialogs and every network request are collected as violations; pages are opened from file:// URLs; expressions
// are evaluated; PNG screenshots are taken and can be decoded here without an image library.
// Teardown must be reliable even when a test fails half-way: Chromium runs in its own process group that is
// killed as a whole, and its temporary profile is removed.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { WebSocket } from 'undici';

/** The flags every launch uses: no sandbox (containers run as root), no GPU, and no background traffic of its own. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
] as const;

function executable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** $CHROME_BIN when it names an executable, else `chromium` or `chromium-browser` on PATH; null when none. */
export function findChromium(): string | null {
  const env = process.env.CHROME_BIN;
  if (env && executable(env)) return env;
  for (const name of ['chromium', 'chromium-browser']) {
    for (const dir of (process.env.PATH ?? '').split(delimiter)) {
      if (!dir) continue;
      const p = join(dir, name);
      if (executable(p)) return p;
    }
  }
  return null;
}

export interface Violation {
  kind: 'console' | 'exception' | 'log' | 'network' | 'dialog';
  text: string;
}

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string; code?: number };
  sessionId?: string;
}

type Listener = (params: Record<string, unknown>) => void;

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export interface LaunchOptions {
  /** How long Chromium may take to print its DevTools endpoint. */
  startTimeoutMs?: number;
  /** Viewport in CSS pixels (screenshots use it). */
  width?: number;
  height?: number;
}

export class ChromiumSession {
  /** Everything a self-contained page must not produce. */
  readonly violations: Violation[] = [];
  /** Every URL the page requested, in order (file: ones included). */
  readonly requests: string[] = [];

  #proc: ChildProcess;
  #dir: string;
  #ws: WebSocket | undefined;
  #sessionId = '';
  #nextId = 1;
  #pending = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  #listeners = new Map<string, Set<Listener>>();
  #requestUrls = new Map<string, string>();
  #closing: Promise<void> | undefined;
  #exited = false;
  #onProcessExit: () => void;

  private constructor(proc: ChildProcess, dir: string) {
    this.#proc = proc;
    this.#dir = dir;
    proc.once('exit', () => (this.#exited = true));
    // If the test process ends without close() (a crash, a killed worker), the browser must not outlive it.
    this.#onProcessExit = () => this.#killGroup();
    process.once('exit', this.#onProcessExit);
  }

  static async launch(opts: LaunchOptions = {}): Promise<ChromiumSession> {
    const bin = findChromium();
    if (!bin) throw new Error('Chromium not found: run scripts/install-chromium.sh or set CHROME_BIN');
    const dir = await mkdtemp(join(tmpdir(), 'pd-bench-chromium-'));
    const args = [...CHROMIUM_FLAGS, '--remote-debugging-port=0', `--user-data-dir=${dir}`, 'about:blank'];
    // detached: its own process group, so the launcher script, the browser and its helpers die together.
    const proc = spawn(bin, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    const session = new ChromiumSession(proc, dir);
    try {
      const wsUrl = await session.#endpoint(opts.startTimeoutMs ?? 20_000);
      await session.#connect(wsUrl);
      await session.#openPage(opts.width ?? 1280, opts.height ?? 900);
      return session;
    } catch (e) {
      await session.close();
      throw e;
    }
  }

  /** The browser's DevTools WebSocket URL: from stderr, or from DevToolsActivePort when stderr is quiet. */
  #endpoint(timeoutMs: number): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      let stderr = '';
      let done = false;
      const finish = (err: Error | null, url?: string): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearInterval(poll);
        if (err) reject(err);
        else resolve(url as string);
      };
      const tail = (): string => stderr.split('\n').filter((l) => !/dbus|zygote/i.test(l)).slice(-15).join('\n');
      // Keep reading stderr for the whole life of the process: a full pipe would stall Chromium.
      this.#proc.stderr?.setEncoding('utf8');
      this.#proc.stderr?.on('data', (chunk: string) => {
        if (stderr.length < 64_000) stderr += chunk;
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
        if (m?.[1]) finish(null, m[1]);
      });
      this.#proc.once('exit', (code, signal) => finish(new Error(`Chromium exited before it was ready (code ${code}, signal ${signal}):\n${tail()}`)));
      this.#proc.once('error', (e) => finish(new Error(`Chromium could not be started: ${e.message}`)));
      const poll = setInterval(() => {
        readFile(join(this.#dir, 'DevToolsActivePort'), 'utf8').then(
          (txt) => {
            const [port, path] = txt.trim().split('\n');
            if (port && path && /^\d+$/.test(port)) finish(null, `ws://127.0.0.1:${port}${path}`);
          },
          () => undefined,
        );
      }, 50);
      const timer = setTimeout(() => finish(new Error(`Chromium did not report a DevTools endpoint within ${timeoutMs} ms:\n${tail()}`)), timeoutMs);
    });
  }

  async #connect(url: string): Promise<void> {
    const ws = new WebSocket(url);
    this.#ws = ws;
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        ws.addEventListener('open', () => resolve(), { once: true });
        ws.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)), { once: true });
      }),
      10_000,
      'DevTools WebSocket',
    );
    ws.addEventListener('message', (ev) => {
      const data = typeof ev.data === 'string' ? ev.data : Buffer.from(ev.data as ArrayBuffer).toString('utf8');
      let msg: CdpMessage;
      try {
        msg = JSON.parse(data) as CdpMessage;
      } catch {
        return;
      }
      if (msg.id !== undefined) {
        const p = this.#pending.get(msg.id);
        if (!p) return;
        this.#pending.delete(msg.id);
        if (msg.error) p.reject(new Error(`CDP error: ${msg.error.message}`));
        else p.resolve(msg.result ?? {});
        return;
      }
      if (msg.method) {
        for (const l of this.#listeners.get(msg.method) ?? []) l(msg.params ?? {});
      }
    });
    ws.addEventListener('close', () => {
      for (const p of this.#pending.values()) p.reject(new Error('DevTools connection closed'));
      this.#pending.clear();
    });
  }

  /** Sends a command; page-level ones go to the attached page session. */
  send(method: string, params: Record<string, unknown> = {}, opts: { browser?: boolean; timeoutMs?: number } = {}): Promise<Record<string, unknown>> {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error(`${method}: DevTools connection is not open`));
    const id = this.#nextId++;
    const msg: CdpMessage = { id, method, params };
    if (!opts.browser && this.#sessionId) msg.sessionId = this.#sessionId;
    const p = new Promise<Record<string, unknown>>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    ws.send(JSON.stringify(msg));
    return withTimeout(p, opts.timeoutMs ?? 15_000, method).finally(() => this.#pending.delete(id));
  }

  on(method: string, listener: Listener): () => void {
    let set = this.#listeners.get(method);
    if (!set) this.#listeners.set(method, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  async #openPage(width: number, height: number): Promise<void> {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' }, { browser: true });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true }, { browser: true });
    this.#sessionId = str(sessionId);

    this.on('Runtime.consoleAPICalled', (p) => {
      const type = str(p.type);
      if (type !== 'error' && type !== 'warning' && type !== 'assert') return;
      const args = Array.isArray(p.args) ? (p.args as { value?: unknown; description?: string }[]) : [];
      this.violations.push({ kind: 'console', text: `console.${type}: ${args.map((a) => a.description ?? str(a.value)).join(' ')}` });
    });
    this.on('Runtime.exceptionThrown', (p) => {
      const d = (p.exceptionDetails ?? {}) as { text?: string; exception?: { description?: string } };
      this.violations.push({ kind: 'exception', text: `${d.text ?? 'exception'}: ${d.exception?.description ?? ''}` });
    });
    this.on('Log.entryAdded', (p) => {
      const e = (p.entry ?? {}) as { level?: string; text?: string; url?: string; source?: string };
      if (e.level === 'error') this.violations.push({ kind: 'log', text: `${e.source ?? 'log'}: ${e.text ?? ''}${e.url ? ` (${e.url})` : ''}` });
    });
    this.on('Network.requestWillBeSent', (p) => {
      const req = (p.request ?? {}) as { url?: string };
      const url = req.url ?? '';
      this.#requestUrls.set(str(p.requestId), url);
      this.requests.push(url);
      if (!url.startsWith('file:')) this.violations.push({ kind: 'network', text: `request to ${url}` });
    });
    this.on('Network.loadingFailed', (p) => {
      const url = this.#requestUrls.get(str(p.requestId)) ?? '?';
      this.violations.push({ kind: 'network', text: `loading failed: ${url} (${str(p.errorText)}${p.blockedReason ? `, blocked: ${str(p.blockedReason)}` : ''})` });
    });
    this.on('Page.javascriptDialogOpening', (p) => {
      this.violations.push({ kind: 'dialog', text: `${str(p.type)} dialog: ${str(p.message)}` });
      // A dialog left open blocks the page's script forever; dismiss it and keep the record.
      void this.send('Page.handleJavaScriptDialog', { accept: false }).catch(() => undefined);
    });

    await Promise.all([this.send('Page.enable'), this.send('Runtime.enable'), this.send('Log.enable'), this.send('Network.enable')]);
    await this.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
  }

  /** Runs `source` in every document before its own scripts (e.g. traps for alert). */
  async addInitScript(source: string): Promise<void> {
    await this.send('Page.addScriptToEvaluateOnNewDocument', { source });
  }

  /** Navigates and waits for the load event. */
  async open(url: string, timeoutMs = 15_000): Promise<void> {
    let off = (): void => undefined;
    const loaded = new Promise<void>((resolve) => {
      off = this.on('Page.loadEventFired', () => resolve());
    });
    try {
      const r = await this.send('Page.navigate', { url }, { timeoutMs });
      if (r.errorText) throw new Error(`navigation to ${url} failed: ${str(r.errorText)}`);
      await withTimeout(loaded, timeoutMs, `load of ${url}`);
    } finally {
      off();
    }
  }

  /** Evaluates an expression in the page (promises awaited) and returns its value by JSON; page errors throw. */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    const ex = r.exceptionDetails as { text?: string; exception?: { description?: string } } | undefined;
    if (ex) throw new Error(`evaluate failed: ${ex.exception?.description ?? ex.text ?? 'exception'}\n  in: ${expression.slice(0, 200)}`);
    return (r.result as { value?: unknown } | undefined)?.value as T;
  }

  /** A PNG of the viewport, or of the whole page with fullPage. */
  async screenshot(opts: { fullPage?: boolean } = {}): Promise<Buffer> {
    const params: Record<string, unknown> = { format: 'png' };
    if (opts.fullPage) {
      const m = await this.send('Page.getLayoutMetrics');
      const size = (m.cssContentSize ?? m.contentSize) as { width: number; height: number } | undefined;
      if (size) {
        params.captureBeyondViewport = true;
        params.clip = { x: 0, y: 0, width: Math.ceil(size.width), height: Math.ceil(size.height), scale: 1 };
      }
    }
    const r = await this.send('Page.captureScreenshot', params, { timeoutMs: 30_000 });
    return Buffer.from(str(r.data), 'base64');
  }

  #killGroup(): void {
    if (this.#exited || this.#proc.pid === undefined) return;
    try {
      process.kill(-this.#proc.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }

  /** Closes the browser, kills its process group and removes its profile. Safe to call more than once. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        if (this.#ws?.readyState === WebSocket.OPEN) await this.send('Browser.close', {}, { browser: true, timeoutMs: 2_000 }).catch(() => undefined);
      } finally {
        try {
          this.#ws?.close();
        } catch {
          // Closing a socket that failed to open throws; nothing to release then.
        }
        // Browser.close leaves helpers (zygote, crashpad) behind now and then: the whole group goes.
        this.#killGroup();
        if (!this.#exited) {
          await withTimeout(new Promise<void>((resolve) => this.#proc.once('exit', () => resolve())), 5_000, 'Chromium exit').catch(() => undefined);
        }
        process.removeListener('exit', this.#onProcessExit);
        await rm(this.#dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }).catch(() => undefined);
      }
    })();
    return this.#closing;
  }
}

// ---- PNG decoding (8-bit RGB/RGBA, non-interlaced: what Page.captureScreenshot produces) -------------------

export interface DecodedPng {
  width: number;
  height: number;
  /** 4 bytes per pixel. */
  rgba: Uint8Array;
}

export function decodePng(png: Buffer): DecodedPng {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.length < 8 || sig.some((b, i) => png[i] !== b)) throw new Error('not a PNG');
  let off = 8;
  let width = 0;
  let height = 0;
  let bitDepth = 0;
  let colorType = 0;
  let interlace = 0;
  const idat: Buffer[] = [];
  while (off + 8 <= png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString('latin1', off + 4, off + 8);
    const data = png.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      bitDepth = data[8] ?? 0;
      colorType = data[9] ?? 0;
      interlace = data[12] ?? 0;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  if (bitDepth !== 8 || (colorType !== 2 && colorType !== 6) || interlace !== 0) {
    throw new Error(`unsupported PNG (bit depth ${bitDepth}, colour type ${colorType}, interlace ${interlace})`);
  }
  const bpp = colorType === 6 ? 4 : 3;
  const stride = width * bpp;
  const raw = inflateSync(Buffer.concat(idat));
  if (raw.length < height * (stride + 1)) throw new Error('PNG data too short');
  const cur = new Uint8Array(stride);
  let prev = new Uint8Array(stride);
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const base = y * (stride + 1);
    const filter = raw[base] ?? 0;
    for (let i = 0; i < stride; i++) {
      const x = raw[base + 1 + i] ?? 0;
      const a = i >= bpp ? (cur[i - bpp] ?? 0) : 0;
      const b = prev[i] ?? 0;
      const c = i >= bpp ? (prev[i - bpp] ?? 0) : 0;
      let v: number;
      switch (filter) {
        case 0:
          v = x;
          break;
        case 1:
          v = x + a;
          break;
        case 2:
          v = x + b;
          break;
        case 3:
          v = x + ((a + b) >> 1);
          break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          v = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
          break;
        }
        default:
          throw new Error(`bad PNG filter ${filter} in row ${y}`);
      }
      cur[i] = v & 0xff;
    }
    for (let px = 0; px < width; px++) {
      const o = (y * width + px) * 4;
      rgba[o] = cur[px * bpp] ?? 0;
      rgba[o + 1] = cur[px * bpp + 1] ?? 0;
      rgba[o + 2] = cur[px * bpp + 2] ?? 0;
      rgba[o + 3] = bpp === 4 ? (cur[px * bpp + 3] ?? 255) : 255;
    }
    prev = Uint8Array.from(cur);
  }
  return { width, height, rgba };
}

export interface PixelStats {
  pixels: number;
  /** Share of pixels that differ from the most common colour (the background). */
  nonBackgroundShare: number;
  distinctColours: number;
  /** Pixels within `tolerance` of each probe colour (hex '#rrggbb'). */
  near: Record<string, number>;
}

export function pixelStats(img: DecodedPng, probes: readonly string[] = [], tolerance = 40): PixelStats {
  const counts = new Map<number, number>();
  const rgb = probes.map((h) => [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16)] as const);
  const near: Record<string, number> = Object.fromEntries(probes.map((p) => [p, 0]));
  const n = img.width * img.height;
  for (let i = 0; i < n; i++) {
    const r = img.rgba[i * 4] ?? 0;
    const g = img.rgba[i * 4 + 1] ?? 0;
    const b = img.rgba[i * 4 + 2] ?? 0;
    const key = (r << 16) | (g << 8) | b;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    rgb.forEach(([pr, pg, pb], j) => {
      if (Math.abs(r - pr) + Math.abs(g - pg) + Math.abs(b - pb) <= tolerance) near[probes[j] as string] = (near[probes[j] as string] ?? 0) + 1;
    });
  }
  let top = 0;
  for (const c of counts.values()) if (c > top) top = c;
  return { pixels: n, nonBackgroundShare: n ? (n - top) / n : 0, distinctColours: counts.size, near };
}
