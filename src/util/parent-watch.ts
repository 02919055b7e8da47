// Notices that the process which started this one is gone, however it went: SIGKILL and the OOM killer run no
// exit handler and send nothing, and npm/npx do not pass a `kill` on to what they started. When a process dies the
// kernel hands its children to init (or a subreaper), so their parent pid changes: polling it needs nothing from
// the parent. A pipe or IPC channel from the parent closes at the same moment and says so sooner, where there is
// one; this is the check that also covers a process started with a terminal or /dev/null as its stdin.
import { readFileSync } from 'node:fs';

export interface ParentWatch {
  stop(): void;
}

/** The variable npm, npx, yarn and pnpm set for what they start (npm itself runs without it). */
const RUNNER_VAR = 'npm_lifecycle_event';

/**
 * Calls `onGone` once when this process's parent changes, or the parent of one of `ancestors` does (checked every
 * `intervalMs`). The timer is unref'd: it never keeps a process alive that would otherwise exit.
 */
export function watchParent(onGone: () => void, o: { ancestors?: readonly number[]; intervalMs?: number } = {}): ParentWatch {
  const parent = process.ppid;
  const above = (o.ancestors ?? []).map((pid) => ({ pid, parent: parentOf(pid) }));
  const timer = setInterval(() => {
    if (process.ppid === parent && above.every((a) => parentOf(a.pid) === a.parent)) return;
    clearInterval(timer);
    onGone();
  }, o.intervalMs ?? 500);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/**
 * When a package runner (npm, npx, yarn, pnpm) started this process, watches the way up to it and calls `onGone`
 * once it is gone; none otherwise, so that `nohup pd-bench sim &` from a shell still outlives the shell. npm starts
 * a command through `sh -c`, and the shell outlives an npm killed with SIGKILL: the shells in between (they carry
 * the runner's variable, npm itself does not) are watched too, where /proc tells (Linux).
 */
export function watchPackageRunner(onGone: () => void, env: NodeJS.ProcessEnv = process.env): ParentWatch | undefined {
  if ((env[RUNNER_VAR] ?? '') === '') return undefined;
  const between: number[] = [];
  // A bounded walk: a runner inside a runner (`npm test` running npx) is a chain of a few processes.
  for (let pid = process.ppid; pid > 1 && between.length < 16 && startedByRunner(pid); pid = parentOf(pid) ?? 0) between.push(pid);
  return watchParent(onGone, { ancestors: between });
}

/** A process's parent pid from /proc/PID/stat; undefined when it is gone or /proc cannot tell (not Linux). */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so count from the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process was started with the package runner's variable set (its environment as it started). */
function startedByRunner(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1')
      .split('\0')
      .some((kv) => kv.startsWith(`${RUNNER_VAR}=`) && kv.length > RUNNER_VAR.length + 1);
  } catch {
    return false;
  }
}
