// Resolves the run configuration: defaults < scenario file < environment < command-line flags, validating
// every value on the way and reporting every problem at once (ConfigError) before anything is sent.
import { ConfigError, type ConfigIssue } from '../errors.js';
import { coerce } from './coerce.js';
import { DEFAULT_CONFIG, RUN_OPTIONS, type RunConfig } from './options.js';
import type { ScenarioFile } from './scenario.js';

export interface ResolveInput {
  scenario?: ScenarioFile | undefined;
  /** Raw flag values keyed by option name (kebab-case); only flags the user actually gave. */
  flags?: Record<string, unknown>;
  env?: Record<string, string | undefined>;
}

export interface ResolvedConfig {
  config: RunConfig;
  /** Where each value came from, for the result's provenance. */
  sources: Partial<Record<keyof RunConfig, 'default' | 'scenario' | 'env' | 'flag'>>;
  scenarioName: string | undefined;
}

export function resolveConfig(input: ResolveInput): ResolvedConfig {
  const issues: ConfigIssue[] = [];
  const config: Record<string, unknown> = { ...DEFAULT_CONFIG };
  const sources: ResolvedConfig['sources'] = {};
  const byName = new Map(RUN_OPTIONS.map((o) => [o.name, o]));

  const apply = (name: string, raw: unknown, source: string, kind: 'scenario' | 'env' | 'flag'): void => {
    const spec = byName.get(name);
    if (!spec) {
      issues.push({ field: name, value: raw, allowed: `unknown field; allowed fields: ${RUN_OPTIONS.filter((o) => !o.cliOnly).map((o) => o.name).join(', ')}`, source });
      return;
    }
    if (kind === 'scenario' && spec.cliOnly) {
      issues.push({ field: name, value: kind === 'scenario' && spec.key === 'apiKey' ? '<redacted>' : raw, allowed: `not allowed in scenario files; pass --${name} on the command line`, source });
      return;
    }
    const r = coerce(spec, raw, source);
    if (r.ok) {
      config[spec.key] = r.value;
      sources[spec.key] = kind;
    } else {
      if (spec.key === 'apiKey') r.issue.value = '<redacted>';
      issues.push(r.issue);
    }
  };

  if (input.scenario) {
    for (const [name, raw] of Object.entries(input.scenario.fields)) apply(name, raw, `scenario ${input.scenario.path}`, 'scenario');
  }
  const env = input.env ?? {};
  if (env.OPENAI_API_KEY) apply('api-key', env.OPENAI_API_KEY, 'environment OPENAI_API_KEY', 'env');
  for (const [name, raw] of Object.entries(input.flags ?? {})) {
    if (raw !== undefined) apply(name, raw, 'command line', 'flag');
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return { config: config as unknown as RunConfig, sources, scenarioName: input.scenario?.name };
}

/** A copy of the config safe to write anywhere: no secrets. */
export function redactConfig(config: RunConfig): Omit<RunConfig, 'apiKey'> & { apiKey: '<redacted>' | null } {
  return { ...config, apiKey: config.apiKey ? '<redacted>' : null };
}
