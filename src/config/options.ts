// The one table of run options: CLI flags, scenario-file fields, defaults, units and validation all derive
// from it, so a flag and a scenario field can never disagree about names, units or limits.

export type Endpoint = 'chat' | 'completions';
export type PreagedHistory = 'synthetic' | 'empty';
export type TokenizerMode = 'estimate' | 'server';
export type ArrivalMode = 'per-user' | 'poisson' | 'gamma' | 'constant';

/** A fully resolved, validated run configuration. Durations in seconds unless the name says otherwise. */
export interface RunConfig {
  baseUrl: string | undefined;
  model: string | undefined;
  /** Never serialized: `redactConfig` removes it. */
  apiKey: string | undefined;
  /** A PEM bundle of CAs trusted for HTTPS targets, besides Node's own (the path, not its contents). */
  caFile: string | undefined;
  /** Skip TLS certificate verification (self-signed test stacks). */
  insecure: boolean;
  endpoint: Endpoint;
  numUsers: number;
  numRounds: number;
  /** Configured request rate points (req/s); more than one makes a sweep. */
  qps: number[];
  sharedSystemPrompt: number;
  userHistoryPrompt: number;
  answerLen: number;
  time: number;
  initUserId: number;
  logInterval: number;
  seed: number;
  userIdHeader: string;
  warmupRequests: number;
  warmupMaxTokens: number;
  preagedHistory: PreagedHistory;
  tokenizer: TokenizerMode;
  requestTimeout: number;
  drainTimeout: number;
  pause: number;
  continuousUsage: boolean;
  ignoreEos: boolean;
  preflight: boolean;
  maxConcurrency: number;
  arrival: ArrivalMode;
  burstiness: number;
  maxLoopDelay: number;
  maxScheduleLag: number;
  strict: boolean;
  failOnSaturation: boolean;
  workers: number;
}

export type OptionType = 'int' | 'number' | 'numberList' | 'string' | 'enum' | 'bool' | 'url' | 'header';

export interface OptionSpec {
  key: keyof RunConfig;
  /** kebab-case: the CLI flag without dashes, and the scenario-file field name. */
  name: string;
  type: OptionType;
  /** Placeholder shown in --help. */
  arg?: string;
  description: string;
  unit?: string;
  default: RunConfig[keyof RunConfig];
  min?: number;
  /** Exclusive lower bound. */
  above?: number;
  max?: number;
  choices?: readonly string[];
  /** Not allowed in scenario files (secrets, machine-specific values). */
  cliOnly?: boolean;
}

export const RUN_OPTIONS: readonly OptionSpec[] = [
  { key: 'baseUrl', name: 'base-url', type: 'url', arg: 'url', default: undefined, cliOnly: true,
    description: 'OpenAI-compatible API base, e.g. http://localhost:30080/v1' },
  { key: 'model', name: 'model', type: 'string', arg: 'name', default: undefined,
    description: 'model name sent in every request (default: the first id from GET /models)' },
  { key: 'apiKey', name: 'api-key', type: 'string', arg: 'key', default: undefined, cliOnly: true,
    description: 'bearer token (default: $OPENAI_API_KEY, which other users cannot see in ps); never written to any output' },
  { key: 'caFile', name: 'ca-file', type: 'string', arg: 'path', default: undefined, cliOnly: true,
    description: 'PEM bundle of CA certificates to trust for https:// targets and --scrape endpoints, in addition to the system ones (default: none; NODE_EXTRA_CA_CERTS also works)' },
  { key: 'insecure', name: 'insecure', type: 'bool', default: false, cliOnly: true,
    description: 'skip TLS certificate verification (self-signed test stacks only; prints a warning)' },
  { key: 'endpoint', name: 'endpoint', type: 'enum', arg: 'kind', default: 'chat', choices: ['chat', 'completions'],
    description: 'API to call: chat (/chat/completions) or completions (/completions)' },
  { key: 'numUsers', name: 'num-users', type: 'int', arg: 'n', default: 10, min: 1, max: 1_000_000,
    description: 'concurrent simulated users (sessions alive at once)' },
  { key: 'numRounds', name: 'num-rounds', type: 'int', arg: 'n', default: 5, min: 1, max: 100_000,
    description: 'questions per user session' },
  { key: 'qps', name: 'qps', type: 'numberList', arg: 'rate[,rate...]', default: [1], above: 0, max: 1_000_000, unit: 'req/s',
    description: 'configured request rate over all users; a comma list runs one point per value' },
  { key: 'sharedSystemPrompt', name: 'shared-system-prompt', type: 'int', arg: 'tokens', default: 1000, min: 0, max: 10_000_000, unit: 'tokens',
    description: 'length of the system text shared byte-for-byte by every user' },
  { key: 'userHistoryPrompt', name: 'user-history-prompt', type: 'int', arg: 'tokens', default: 2000, min: 0, max: 10_000_000, unit: 'tokens',
    description: 'length of the context unique to each user' },
  { key: 'answerLen', name: 'answer-len', type: 'int', arg: 'tokens', default: 100, min: 1, max: 10_000_000, unit: 'tokens',
    description: 'max_tokens of every answer' },
  { key: 'time', name: 'time', type: 'number', arg: 'seconds', default: 60, above: 0, max: 31_536_000, unit: 's',
    description: 'how long each QPS point launches new turns' },
  { key: 'initUserId', name: 'init-user-id', type: 'int', arg: 'id', default: 0, min: 0, max: Number.MAX_SAFE_INTEGER,
    description: 'first user id (use distinct ranges on several clients)' },
  { key: 'logInterval', name: 'log-interval', type: 'number', arg: 'seconds', default: 30, above: 0, max: 86_400, unit: 's',
    description: 'print a window summary this often' },
  { key: 'seed', name: 'seed', type: 'int', arg: 'n', default: 0, min: 0, max: 2 ** 31 - 1,
    description: 'seed for all generated text: same seed, same prompts byte for byte' },
  { key: 'userIdHeader', name: 'user-id-header', type: 'header', arg: 'name', default: 'x-user-id',
    description: 'session header sent with every request (the router\'s affinity key)' },
  { key: 'warmupRequests', name: 'warmup-requests', type: 'int', arg: 'n', default: 0, min: 0, max: 100_000,
    description: 'requests sent before measuring (unique prompts, excluded from statistics)' },
  { key: 'warmupMaxTokens', name: 'warmup-max-tokens', type: 'int', arg: 'tokens', default: 100, min: 1, max: 10_000_000, unit: 'tokens',
    description: 'max_tokens of each warmup request' },
  { key: 'preagedHistory', name: 'preaged-history', type: 'enum', arg: 'mode', default: 'synthetic', choices: ['synthetic', 'empty'],
    description: 'users already mid-session at t=0 carry seeded earlier rounds (synthetic) or none, as multi-round-qa.py does (empty)' },
  { key: 'tokenizer', name: 'tokenizer', type: 'enum', arg: 'mode', default: 'estimate', choices: ['estimate', 'server'],
    description: 'size prompts by the chars/4 estimate, or exactly with the target\'s own /tokenize and /detokenize (vLLM, llama-server)' },
  { key: 'requestTimeout', name: 'request-timeout', type: 'number', arg: 'seconds', default: 600, above: 0, max: 86_400, unit: 's',
    description: 'a request still running after this long is failed with class timeout' },
  { key: 'drainTimeout', name: 'drain-timeout', type: 'number', arg: 'seconds', default: 60, min: 0, max: 86_400, unit: 's',
    description: 'after --time, wait this long for in-flight turns before cancelling them' },
  { key: 'pause', name: 'pause', type: 'number', arg: 'seconds', default: 10, min: 0, max: 86_400, unit: 's',
    description: 'pause between QPS points of a sweep' },
  { key: 'continuousUsage', name: 'continuous-usage', type: 'bool', default: false,
    description: 'ask for usage in every chunk (stream_options.continuous_usage_stats) so ITL is exact per token' },
  { key: 'ignoreEos', name: 'ignore-eos', type: 'bool', default: false,
    description: 'send ignore_eos: true (vLLM, llama.cpp) so every answer has exactly --answer-len tokens' },
  { key: 'preflight', name: 'preflight', type: 'bool', default: true,
    description: 'the check of GET /models and one short request before the run' },
  { key: 'maxConcurrency', name: 'max-concurrency', type: 'int', arg: 'n', default: 0, min: 0, max: 1_000_000,
    description: 'at most this many requests in flight (0 = no cap); a turn waiting for a slot keeps its intended time, so the wait shows in schedule lag and the from-intended latencies' },
  { key: 'arrival', name: 'arrival', type: 'enum', arg: 'process', default: 'per-user', choices: ['per-user', 'poisson', 'gamma', 'constant'],
    description: 'turn launch times: per-user (multi-round-qa.py: each user every users/QPS seconds), or the same turns in the same order at the same mean rate drawn from a poisson, gamma or constant process (seeded)' },
  { key: 'burstiness', name: 'burstiness', type: 'number', arg: 'b', default: 1, above: 0, max: 1000,
    description: 'gamma shape for --arrival gamma: 1 is Poisson, below 1 burstier, above 1 more regular (as vLLM bench)' },
  { key: 'maxLoopDelay', name: 'max-loop-delay', type: 'number', arg: 'ms', default: 5, above: 0, max: 60_000, unit: 'ms',
    description: 'the client is unhealthy when its event-loop delay (p99; p90 under 100 samples) exceeds this' },
  { key: 'maxScheduleLag', name: 'max-schedule-lag', type: 'number', arg: 'ms', default: 10, above: 0, max: 3_600_000, unit: 'ms',
    description: "the client is unhealthy when its sender lag (the client's own part of the schedule lag, not waits for the server) exceeds this" },
  { key: 'strict', name: 'strict', type: 'bool', default: false,
    description: 'exit 3 when the client was unhealthy (its latencies cannot be trusted)' },
  { key: 'failOnSaturation', name: 'fail-on-saturation', type: 'bool', default: false,
    description: 'exit 5 when a target was saturated (it could not keep up with the offered load: latencies measure queueing)' },
  { key: 'workers', name: 'workers', type: 'int', arg: 'n', default: 1, min: 1, max: 64, cliOnly: true,
    description: 'worker threads sharing the users (same seeded schedule, histograms merged exactly); more when one core cannot keep up' },
];

export const DEFAULT_CONFIG: RunConfig = Object.fromEntries(
  RUN_OPTIONS.map((o) => [o.key, o.default]),
) as unknown as RunConfig;

export function optionByName(name: string): OptionSpec | undefined {
  return RUN_OPTIONS.find((o) => o.name === name);
}
