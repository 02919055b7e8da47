// Parses `--target name=URL[,model=NAME][,gpus=N][,api-key-env=VAR]` and `--gpus name=N`. API keys are named by
// environment variable, never typed on the command line (ps shows argv to every user), and never stored. Pure.
import { coerce } from '../config/coerce.js';
import { optionByName } from '../config/options.js';
import { ConfigError, type ConfigIssue } from '../errors.js';

export interface TargetSpec {
  name: string;
  baseUrl: string;
  model: string | undefined;
  gpus: number | null;
  /** Resolved from the named environment variable (or OPENAI_API_KEY); never serialized. */
  apiKey: string | undefined;
  apiKeyEnv: string | undefined;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const TARGET_ALLOWED =
  'allowed: name=URL with optional ,model=NAME ,gpus=N ,api-key-env=VAR, e.g. pd=http://127.0.0.1:30080/v1,gpus=2 (name: letters, digits, _ . -)';

function parseGpus(v: string): number | undefined {
  const n = Number(v);
  return Number.isInteger(n) && n >= 1 && n <= 100_000 ? n : undefined;
}

/** `minTargets`: compare needs two or more; a sweep takes one. */
export function parseTargets(raw: readonly string[], gpus: readonly string[], env: Record<string, string | undefined>, minTargets = 2): TargetSpec[] {
  const issues: ConfigIssue[] = [];
  const out: TargetSpec[] = [];
  const urlSpec = optionByName('base-url');
  for (const text of raw) {
    const [head, ...rest] = text.split(',');
    const eq = head?.indexOf('=') ?? -1;
    const name = eq > 0 ? (head as string).slice(0, eq) : '';
    const url = eq > 0 ? (head as string).slice(eq + 1) : '';
    if (!NAME.test(name) || !url) {
      issues.push({ field: '--target', value: text, allowed: TARGET_ALLOWED });
      continue;
    }
    const u = urlSpec ? coerce(urlSpec, url, 'command line') : undefined;
    if (u && !u.ok) {
      issues.push({ ...u.issue, field: `--target ${name}` });
      continue;
    }
    const t: TargetSpec = { name, baseUrl: u?.ok ? String(u.value) : url, model: undefined, gpus: null, apiKey: env.OPENAI_API_KEY, apiKeyEnv: undefined };
    for (const kv of rest) {
      const i = kv.indexOf('=');
      const key = i > 0 ? kv.slice(0, i) : kv;
      const value = i > 0 ? kv.slice(i + 1) : '';
      if (key === 'model' && value) t.model = value;
      else if (key === 'gpus' && parseGpus(value) !== undefined) t.gpus = parseGpus(value) as number;
      else if (key === 'api-key-env' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
        t.apiKeyEnv = value;
        t.apiKey = env[value];
        if (t.apiKey === undefined) issues.push({ field: `--target ${name}`, value: `api-key-env=${value}`, allowed: `allowed: the name of a set environment variable ($${value} is not set)` });
      } else issues.push({ field: `--target ${name}`, value: kv, allowed: 'allowed: model=NAME, gpus=N (an integer >= 1) or api-key-env=VAR' });
    }
    if (out.some((o) => o.name === name)) issues.push({ field: '--target', value: name, allowed: 'allowed: distinct target names' });
    out.push(t);
  }
  issues.push(...applyGpus(out, gpus));
  if (issues.length === 0 && out.length < minTargets) issues.push({ field: '--target', value: raw, allowed: 'allowed: two or more targets (--target a=URL --target b=URL), or two or more saved result directories' });
  if (issues.length > 0) throw new ConfigError(issues);
  return out;
}

/** Applies `--gpus name=N` to the named targets; returns the problems (unknown name, bad count). */
export function applyGpus(targets: { name: string; gpus: number | null }[], raw: readonly string[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const g of raw) {
    const i = g.indexOf('=');
    const name = i > 0 ? g.slice(0, i) : '';
    const n = parseGpus(i > 0 ? g.slice(i + 1) : '');
    const t = targets.find((x) => x.name === name);
    if (!t || n === undefined) {
      issues.push({ field: '--gpus', value: g, allowed: `allowed: name=N with N an integer >= 1 and name one of ${targets.map((x) => x.name).join(', ') || '(no targets)'}` });
      continue;
    }
    t.gpus = n;
  }
  return issues;
}

/** The baseline: --baseline if given, else a target named colocated or baseline, else the first. */
export function pickBaseline(names: readonly string[], requested: string | undefined): string {
  if (requested !== undefined) {
    if (!names.includes(requested)) throw new ConfigError([{ field: '--baseline', value: requested, allowed: `allowed: one of the targets: ${names.join(', ')}` }]);
    return requested;
  }
  return names.find((n) => n === 'colocated') ?? names.find((n) => n === 'baseline') ?? (names[0] as string);
}
