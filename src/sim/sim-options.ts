// Options of a simulated stack (`pd-bench sim`, the sim-main process, the demo): one table, validated into
// StackOptions or a ConfigError naming the flag, the value and what is allowed.
import { ConfigError, type ConfigIssue } from '../errors.js';
import { DEFAULT_LINK_PRESET, DEFAULT_MODEL_PRESET, LINK_PRESETS, MODEL_PRESETS } from './presets.js';
import type { StackOptions } from './stack.js';

export interface SimFlagSpec {
  flag: string;
  arg?: string;
  description: string;
  default: string | number | boolean;
}

export const SIM_FLAGS: readonly SimFlagSpec[] = [
  { flag: 'topology', arg: 'kind', description: 'colocated (replicas behind session affinity) or pd (prefill and decode pools behind a disaggregated_prefill router)', default: 'pd' },
  { flag: 'replicas', arg: 'n', description: 'colocated: number of replicas', default: 2 },
  { flag: 'prefill', arg: 'n', description: 'pd: number of prefill engines', default: 1 },
  { flag: 'decode', arg: 'n', description: 'pd: number of decode engines', default: 1 },
  { flag: 'preset', arg: 'name', description: `model x GPU preset: ${Object.keys(MODEL_PRESETS).join(', ')}`, default: DEFAULT_MODEL_PRESET },
  { flag: 'link', arg: 'name', description: `pd: KV transfer link: ${Object.keys(LINK_PRESETS).join(', ')}`, default: DEFAULT_LINK_PRESET },
  { flag: 'port', arg: 'n', description: 'router port on 127.0.0.1 (0 = any free port)', default: 8000 },
  { flag: 'seed', arg: 'n', description: 'seed for generated tokens and fault decisions', default: 0 },
  { flag: 'time-scale', arg: 'x', description: 'simulated time runs this many times slower than real time (0.5 = twice as fast)', default: 1 },
  { flag: 'fail-rate', arg: 'p', description: 'share of requests answered with HTTP 500/429/400 (0..1)', default: 0 },
  { flag: 'reset-rate', arg: 'p', description: 'share of streams whose connection is reset mid-stream (0..1)', default: 0 },
  { flag: 'stall-ms', arg: 'ms', description: 'every stream stalls this long once, mid-way', default: 0 },
  { flag: 'no-usage', description: 'never send usage (tests the client\'s fallback counting)', default: false },
  { flag: 'chunk-tokens', arg: 'k', description: 'tokens per streamed chunk (with per-chunk usage when the client asks)', default: 1 },
  { flag: 'api-delay-ms', arg: 'ms', description: 'extra API-server time before each request is queued: TTFT (and E2EL) grow by this much, ITL does not (an injected TTFT regression)', default: 0 },
  { flag: 'json-content-type', description: 'pd: stream answers as application/json, as production-stack\'s router does', default: false },
];

function num(raw: unknown): number {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string' && raw.trim() !== '') return Number(raw);
  return Number.NaN;
}

/** Validates raw flag values (strings from the command line, or typed values) into StackOptions. */
export function parseSimOptions(raw: Record<string, unknown>): StackOptions & { port: number } {
  const issues: ConfigIssue[] = [];
  const get = (flag: string): unknown => {
    const spec = SIM_FLAGS.find((f) => f.flag === flag);
    return raw[flag] ?? spec?.default;
  };
  const int = (flag: string, min: number, max: number): number => {
    const v = num(get(flag));
    if (!Number.isInteger(v) || v < min || v > max) issues.push({ field: `--${flag}`, value: get(flag), allowed: `allowed: an integer from ${min} to ${max}` });
    return v;
  };
  const real = (flag: string, min: number, max: number, exclusiveMin = false): number => {
    const v = num(get(flag));
    if (!Number.isFinite(v) || v > max || (exclusiveMin ? v <= min : v < min)) {
      issues.push({ field: `--${flag}`, value: get(flag), allowed: `allowed: a number ${exclusiveMin ? '>' : '>='} ${min} and <= ${max}` });
    }
    return v;
  };
  const topology = get('topology');
  if (topology !== 'colocated' && topology !== 'pd') issues.push({ field: '--topology', value: topology, allowed: 'allowed: colocated or pd' });
  const preset = String(get('preset'));
  if (!MODEL_PRESETS[preset]) issues.push({ field: '--preset', value: preset, allowed: `allowed: ${Object.keys(MODEL_PRESETS).join(', ')}` });
  const link = String(get('link'));
  if (!LINK_PRESETS[link]) issues.push({ field: '--link', value: link, allowed: `allowed: ${Object.keys(LINK_PRESETS).join(', ')}` });
  // Sizes that belong to the other topology are a mistake worth stopping for, not something to ignore.
  if (topology === 'pd' && raw.replicas !== undefined) issues.push({ field: '--replicas', value: raw.replicas, allowed: 'applies to --topology colocated; for pd use --prefill and --decode' });
  if (topology === 'colocated' && (raw.prefill !== undefined || raw.decode !== undefined)) {
    issues.push({ field: raw.prefill !== undefined ? '--prefill' : '--decode', value: raw.prefill ?? raw.decode, allowed: 'applies to --topology pd; for colocated use --replicas' });
  }
  if (topology === 'colocated' && raw['json-content-type'] === true) issues.push({ field: '--json-content-type', value: true, allowed: 'applies to --topology pd only' });
  const opts = {
    topology: topology as StackOptions['topology'],
    replicas: int('replicas', 1, 64),
    prefill: int('prefill', 1, 64),
    decode: int('decode', 1, 64),
    preset,
    link,
    seed: int('seed', 0, 2 ** 31 - 1),
    timeScale: real('time-scale', 0, 1000, true),
    faults: {
      failRate: real('fail-rate', 0, 1),
      resetRate: real('reset-rate', 0, 1),
      stallMs: real('stall-ms', 0, 3_600_000),
      noUsage: get('no-usage') === true || get('no-usage') === 'true',
      chunkTokens: int('chunk-tokens', 1, 4096),
      apiDelayMs: real('api-delay-ms', 0, 3_600_000),
    },
    pdJsonContentType: get('json-content-type') === true || get('json-content-type') === 'true',
    port: int('port', 0, 65535),
  };
  if (issues.length > 0) throw new ConfigError(issues);
  return opts;
}
