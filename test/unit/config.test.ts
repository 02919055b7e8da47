// Configuration: precedence (defaults < scenario < OPENAI_API_KEY < flags), validation messages, the built-in
// scenarios (production-stack's run_pd.sh / run.sh / run_single.sh presets) and scenario files by path.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowedText, coerce } from '../../src/config/coerce.js';
import { DEFAULT_CONFIG, optionByName, RUN_OPTIONS, type OptionSpec, type RunConfig } from '../../src/config/options.js';
import { redactConfig, resolveConfig, type ResolveInput } from '../../src/config/resolve.js';
import { BUILTIN_SCENARIO_DIR, listBuiltinScenarios, loadScenario, type ScenarioFile } from '../../src/config/scenario.js';
import { ConfigError, type ConfigIssue } from '../../src/errors.js';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).code).toBe('PDB_CONFIG');
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

const resolveError = (input: ResolveInput): ConfigError => configError(() => resolveConfig(input));

function scenario(fields: Record<string, unknown>, path = '/tmp/inline.yaml'): ScenarioFile {
  return { name: 'inline', path, description: undefined, fields };
}

function spec(name: string): OptionSpec {
  const s = optionByName(name);
  if (!s) throw new Error(`no option ${name}`);
  return s;
}

describe('defaults', () => {
  it('resolves to the documented defaults with nothing given', () => {
    const { config, sources, scenarioName } = resolveConfig({});
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(sources).toEqual({});
    expect(scenarioName).toBeUndefined();
    expect(config).toMatchObject({
      endpoint: 'chat',
      numUsers: 10,
      numRounds: 5,
      qps: [1],
      sharedSystemPrompt: 1000,
      userHistoryPrompt: 2000,
      answerLen: 100,
      time: 60,
      initUserId: 0,
      logInterval: 30,
      seed: 0,
      userIdHeader: 'x-user-id',
      warmupRequests: 0,
      preagedHistory: 'synthetic',
      continuousUsage: false,
      ignoreEos: false,
      preflight: true,
    });
    expect(config.baseUrl).toBeUndefined();
    expect(config.apiKey).toBeUndefined();
  });

  it('every option has a unique kebab-case name and a default that passes its own validation', () => {
    expect(new Set(RUN_OPTIONS.map((o) => o.name)).size).toBe(RUN_OPTIONS.length);
    expect(new Set(RUN_OPTIONS.map((o) => o.key)).size).toBe(RUN_OPTIONS.length);
    for (const o of RUN_OPTIONS) {
      expect(o.name).toMatch(/^[a-z]+(-[a-z]+)*$/);
      if (o.default !== undefined) expect(coerce(o, o.default, 'command line').ok, o.name).toBe(true);
    }
  });
});

describe('precedence: defaults < scenario < environment < flags', () => {
  const sc = scenario({ 'num-users': 64, 'num-rounds': 6, qps: [2, 1], 'answer-len': 200, model: 'from-scenario' });

  it('a scenario overrides defaults', () => {
    const { config, sources } = resolveConfig({ scenario: sc });
    expect(config).toMatchObject({ numUsers: 64, numRounds: 6, qps: [2, 1], answerLen: 200, model: 'from-scenario', time: 60 });
    expect(sources).toEqual({ numUsers: 'scenario', numRounds: 'scenario', qps: 'scenario', answerLen: 'scenario', model: 'scenario' });
  });

  it('flags override the scenario; untouched fields keep the scenario value', () => {
    const { config, sources } = resolveConfig({ scenario: sc, flags: { 'num-users': '5', qps: '0.5,0.25', model: 'from-flag' } });
    expect(config).toMatchObject({ numUsers: 5, numRounds: 6, qps: [0.5, 0.25], answerLen: 200, model: 'from-flag' });
    expect(sources.numUsers).toBe('flag');
    expect(sources.numRounds).toBe('scenario');
  });

  it('OPENAI_API_KEY sets the key; --api-key overrides it', () => {
    const env = { OPENAI_API_KEY: 'sk-env' };
    const fromEnv = resolveConfig({ scenario: sc, env });
    expect(fromEnv.config.apiKey).toBe('sk-env');
    expect(fromEnv.sources.apiKey).toBe('env');
    const fromFlag = resolveConfig({ scenario: sc, env, flags: { 'api-key': 'sk-flag' } });
    expect(fromFlag.config.apiKey).toBe('sk-flag');
    expect(fromFlag.sources.apiKey).toBe('flag');
    expect(resolveConfig({ env: { OPENAI_API_KEY: '' } }).config.apiKey).toBeUndefined();
    expect(resolveConfig({ env: { OTHER: 'x' } }).config.apiKey).toBeUndefined();
  });

  it('flags given as undefined (not typed) do not override', () => {
    const { config } = resolveConfig({ scenario: sc, flags: { 'num-users': undefined } });
    expect(config.numUsers).toBe(64);
  });

  it('coerces CLI strings and scenario values to typed values', () => {
    const { config } = resolveConfig({
      flags: {
        'base-url': 'http://localhost:30080/v1/',
        time: '120',
        qps: '4.1, 3.7,0.1',
        'continuous-usage': true,
        preflight: false,
        'ignore-eos': 'true',
        endpoint: 'completions',
        'preaged-history': 'empty',
        'drain-timeout': '0',
      },
    });
    expect(config).toMatchObject({
      baseUrl: 'http://localhost:30080/v1',
      time: 120,
      qps: [4.1, 3.7, 0.1],
      continuousUsage: true,
      preflight: false,
      ignoreEos: true,
      endpoint: 'completions',
      preagedHistory: 'empty',
      drainTimeout: 0,
    });
    expect(resolveConfig({ scenario: scenario({ qps: 1.1, time: '30' }) }).config).toMatchObject({ qps: [1.1], time: 30 });
  });
});

describe('validation: every bad value names the field, the value and what is allowed', () => {
  const BAD: Array<[string, unknown, RegExp]> = [
    ['num-users', '0', /an integer >= 1 and <= 1000000/],
    ['num-users', '1.5', /an integer/],
    ['num-users', 'ten', /an integer/],
    ['num-users', '', /an integer/],
    ['num-rounds', '-2', /an integer >= 1/],
    ['qps', '0', /a number > 0 and <= 1000000 \(req\/s\), or a comma-separated list of them/],
    ['qps', '-1', /a number > 0/],
    ['qps', '1,,2', /comma-separated list/],
    ['qps', '1,x', /comma-separated list/],
    ['qps', 'Infinity', /a number > 0/],
    ['time', '0', /a number > 0 and <= 31536000 \(s\)/],
    ['time', 'NaN', /a number > 0/],
    ['shared-system-prompt', '-1', /an integer >= 0 .*\(tokens\)/],
    ['user-history-prompt', '2.5', /an integer >= 0/],
    ['answer-len', '0', /an integer >= 1 .*\(tokens\)/],
    ['init-user-id', '-1', /an integer >= 0/],
    ['log-interval', '0', /a number > 0/],
    ['seed', String(2 ** 31), /an integer >= 0 and <= 2147483647/],
    ['warmup-requests', '-1', /an integer >= 0/],
    ['warmup-max-tokens', '0', /an integer >= 1/],
    ['request-timeout', '0', /a number > 0/],
    ['drain-timeout', '-1', /a number >= 0/],
    ['pause', '-0.5', /a number >= 0/],
    ['endpoint', 'grpc', /one of chat, completions/],
    ['preaged-history', 'full', /one of synthetic, empty/],
    ['continuous-usage', 'yes', /true or false/],
    ['base-url', 'localhost:30080/v1', /an http:\/\/ or https:\/\/ URL/],
    ['base-url', 'ftp://example.com/v1', /an http:\/\/ or https:\/\/ URL/],
    ['base-url', 'not a url', /an http:\/\/ or https:\/\/ URL/],
    ['model', '', /a non-empty string/],
    ['user-id-header', '', /an HTTP header name/],
  ];

  it.each(BAD)('--%s %j', (name, value, allowed) => {
    const err = resolveError({ flags: { [name]: value } });
    expect(err.issues).toHaveLength(1);
    const issue = err.issues[0] as ConfigIssue;
    expect(issue.field).toBe(`--${name}`);
    expect(issue.value).toBe(value);
    expect(issue.allowed).toMatch(allowed);
    expect(err.message).toContain(`--${name}`);
    expect(err.message).toContain(JSON.stringify(value));
    expect(err.message).toMatch(allowed);
    expect(err.message).toMatch(/^invalid --[a-z-]+ \(in command line\): .* — allowed: /);
    expect(err.message.split('\n')).toHaveLength(1); // one line per problem
  });

  it.each(BAD.filter(([n]) => n !== 'base-url'))('scenario field %s: %j', (name, value, allowed) => {
    const err = resolveError({ scenario: scenario({ [name]: value }, '/work/x/my.yaml') });
    const issue = err.issues[0] as ConfigIssue;
    expect(issue.field).toBe(name);
    expect(issue.source).toBe('scenario /work/x/my.yaml');
    expect(err.message).toContain(`invalid ${name} (in scenario /work/x/my.yaml): ${JSON.stringify(value)} — `);
    expect(err.message).toMatch(allowed);
  });

  it('rejects wrongly typed scenario values (YAML booleans, nulls, lists, objects)', () => {
    const err = resolveError({
      scenario: scenario({ 'num-users': true, 'num-rounds': null, time: [1], model: 7, 'ignore-eos': 'on', qps: [], endpoint: { a: 1 } }),
    });
    expect(err.issues.map((i) => i.field).sort()).toEqual(['endpoint', 'ignore-eos', 'model', 'num-rounds', 'num-users', 'qps', 'time']);
  });

  it('reports every problem at once, scenario and flags together', () => {
    const err = resolveError({ scenario: scenario({ 'num-users': 0 }), flags: { qps: '0', endpoint: 'x' } });
    expect(err.issues.map((i) => i.field)).toEqual(['num-users', '--qps', '--endpoint']);
    expect(err.message.split('\n')).toHaveLength(3);
  });

  it('rejects an unknown scenario field and lists the allowed ones', () => {
    const err = resolveError({ scenario: scenario({ 'num-user': 64 }) });
    const issue = err.issues[0] as ConfigIssue;
    expect(issue.field).toBe('num-user');
    expect(issue.value).toBe(64);
    expect(issue.allowed).toMatch(/unknown field/);
    expect(issue.allowed).toContain('num-users');
    expect(issue.allowed).not.toContain('api-key'); // command-line only, so not offered for scenario files
    expect(err.message).toContain('num-user');
  });

  it('rejects command-line-only options in scenario files, without echoing a secret', () => {
    const err = resolveError({ scenario: scenario({ 'base-url': 'http://x/v1', 'api-key': 'sk-secret-123' }) });
    expect(err.issues.map((i) => i.field)).toEqual(['base-url', 'api-key']);
    for (const i of err.issues) expect(i.allowed).toMatch(/not allowed in scenario files; pass --/);
    expect(err.message).not.toContain('sk-secret-123');
    expect(err.message).toContain('<redacted>');
  });

  it('never echoes an invalid API key', () => {
    const err = resolveError({ flags: { 'api-key': '' } });
    expect(err.issues[0]?.value).toBe('<redacted>');
  });

  it('rejects credentials, queries and fragments in --base-url without echoing the password', () => {
    const err = resolveError({ flags: { 'base-url': 'http://user:hunter2@127.0.0.1:8000/v1' } });
    expect(err.issues[0]?.field).toBe('--base-url');
    expect(err.message).not.toContain('hunter2');
    expect(err.message).toContain('--api-key or OPENAI_API_KEY');
    expect(resolveError({ flags: { 'base-url': 'http://127.0.0.1:8000/v1?key=abc' } }).message).toMatch(/without \?query or #fragment/);
    expect(resolveConfig({ flags: { 'base-url': 'http://127.0.0.1:8000/v1/' } }).config.baseUrl).toBe('http://127.0.0.1:8000/v1');
  });

  it.each(['bad header', 'x-user:id', '', 'authorization', 'Content-Type', 'host'])('rejects %j as --user-id-header', (name) => {
    const err = resolveError({ flags: { 'user-id-header': name } });
    expect(err.issues[0]?.field).toBe('--user-id-header');
    expect(err.message).toMatch(/an HTTP header name .* other than authorization/);
  });

  it('lower-cases a valid --user-id-header', () => {
    expect(resolveConfig({ flags: { 'user-id-header': 'X-Session-ID' } }).config.userIdHeader).toBe('x-session-id');
  });

  it('describes each option type in words', () => {
    expect(allowedText(spec('num-users'))).toBe('allowed: an integer >= 1 and <= 1000000');
    expect(allowedText(spec('time'))).toBe('allowed: a number > 0 and <= 31536000 (s)');
    expect(allowedText(spec('endpoint'))).toBe('allowed: one of chat, completions');
  });

  it('accepts boundary values', () => {
    const { config } = resolveConfig({ flags: { 'num-users': '1', 'shared-system-prompt': '0', seed: String(2 ** 31 - 1), qps: '0.001', 'drain-timeout': '0', pause: '0' } });
    expect(config).toMatchObject({ numUsers: 1, sharedSystemPrompt: 0, seed: 2 ** 31 - 1, qps: [0.001], drainTimeout: 0, pause: 0 });
  });
});

describe('built-in scenarios', () => {
  const resolved = (name: string): RunConfig => resolveConfig({ scenario: loadScenario(name) }).config;

  it('lists the shipped scenarios', () => {
    expect(listBuiltinScenarios()).toEqual(expect.arrayContaining(['multi-round-qa', 'run-pd', 'run-single', 'warmup']));
  });

  it('run-pd is run_pd.sh: 120 users, 2 rounds, system 0, history 500, answer 50, 1.1 QPS, 60 s', () => {
    const s = loadScenario('run-pd');
    expect(s.name).toBe('run-pd');
    expect(s.path).toBe(join(BUILTIN_SCENARIO_DIR, 'run-pd.yaml'));
    expect(s.description).toMatch(/run_pd\.sh/);
    expect(resolved('run-pd')).toMatchObject({
      numUsers: 120,
      numRounds: 2,
      sharedSystemPrompt: 0,
      userHistoryPrompt: 500,
      answerLen: 50,
      qps: [1.1],
      time: 60,
      logInterval: 30,
    });
    expect(resolveConfig({ scenario: s }).scenarioName).toBe('run-pd');
  });

  it('multi-round-qa is run.sh: 320 users, 10 rounds, system 1000, history 20000, answer 100, 100 s, QPS 4.1 down to 0.1 by 0.4, 10 s pause', () => {
    const c = resolved('multi-round-qa');
    expect(c).toMatchObject({ numUsers: 320, numRounds: 10, sharedSystemPrompt: 1000, userHistoryPrompt: 20000, answerLen: 100, time: 100, pause: 10 });
    expect(c.qps).toHaveLength(11);
    c.qps.forEach((q, i) => expect(q).toBeCloseTo(4.1 - 0.4 * i, 9));
  });

  it('run-single is run_single.sh: 15 users, 20 rounds, system 1000, history 20000, answer 100, 100 s per point', () => {
    const c = resolved('run-single');
    expect(c).toMatchObject({ numUsers: 15, numRounds: 20, sharedSystemPrompt: 1000, userHistoryPrompt: 20000, answerLen: 100, time: 100 });
    // production-stack's run_single.sh loops over QPS 1.5 1.3 ... 0.1.
    expect(c.qps).toHaveLength(8);
    c.qps.forEach((q, i) => expect(q).toBeCloseTo(1.5 - 0.2 * i, 9));
  });

  it('warmup is run.sh\'s warmup step plus multi-round-qa.py\'s 10 warmup requests of max_tokens 100', () => {
    expect(resolved('warmup')).toMatchObject({
      numUsers: 1,
      numRounds: 2,
      qps: [2],
      sharedSystemPrompt: 1000,
      userHistoryPrompt: 20000,
      answerLen: 100,
      time: 200,
      warmupRequests: 10,
      warmupMaxTokens: 100,
    });
  });

  it.each(listBuiltinScenarios())('%s resolves without errors and describes itself', (name) => {
    const s = loadScenario(name);
    expect(s.description?.length ?? 0).toBeGreaterThan(20);
    expect(() => resolveConfig({ scenario: s })).not.toThrow();
  });

  it('flags override a built-in scenario (README: --qps 2 --time 120)', () => {
    const { config } = resolveConfig({ scenario: loadScenario('run-pd'), flags: { qps: '2', time: '120' } });
    expect(config).toMatchObject({ numUsers: 120, qps: [2], time: 120 });
  });

  it('an unknown scenario name is a ConfigError that lists the built-ins', () => {
    const err = configError(() => loadScenario('run-pdd'));
    expect(err.issues[0]).toMatchObject({ field: '--scenario', value: 'run-pdd' });
    expect(err.message).toContain('"run-pdd"');
    expect(err.message).toContain('run-pd, run-single');
    expect(err.message).toMatch(/\.yaml\/\.yml\/\.json/);
  });
});

describe('scenario files by path', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pd-bench-config-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('reads a YAML file (README example)', () => {
    const p = file(
      'my-load.yaml',
      'name: my-load\nnum-users: 64\nnum-rounds: 6\nqps: [2, 1, 0.5]\nshared-system-prompt: 1000\nuser-history-prompt: 4000\nanswer-len: 200\ntime: 120\n',
    );
    const s = loadScenario(p);
    expect(s).toMatchObject({ name: 'my-load', path: p, description: undefined });
    expect(s.fields).not.toHaveProperty('name');
    expect(resolveConfig({ scenario: s }).config).toMatchObject({ numUsers: 64, numRounds: 6, qps: [2, 1, 0.5], userHistoryPrompt: 4000, answerLen: 200, time: 120 });
  });

  it('reads a .yml file and names the scenario after the file when it has no name', () => {
    const p = file('short.yml', 'num-users: 3\n');
    expect(loadScenario(p).name).toBe('short');
    expect(resolveConfig({ scenario: loadScenario(p) }).config.numUsers).toBe(3);
  });

  it('reads a JSON file', () => {
    const p = file('load.json', JSON.stringify({ name: 'json-load', description: 'from JSON', 'num-users': 7, qps: '1.5,0.5', 'continuous-usage': true }));
    const s = loadScenario(p);
    expect(s).toMatchObject({ name: 'json-load', description: 'from JSON' });
    expect(resolveConfig({ scenario: s }).config).toMatchObject({ numUsers: 7, qps: [1.5, 0.5], continuousUsage: true });
  });

  it('validates file values with the file in the message', () => {
    const p = file('bad.yaml', 'num-users: 0\nqps: fast\nnum-user: 3\n');
    const err = resolveError({ scenario: loadScenario(p) });
    expect(err.issues.map((i) => i.field)).toEqual(['num-users', 'qps', 'num-user']);
    expect(err.message).toContain(`(in scenario ${p})`);
    expect(err.message).toContain('invalid qps');
    expect(err.message).toContain('"fast"');
  });

  it('a malformed file is a ConfigError naming the file problem', () => {
    const yaml = configError(() => loadScenario(file('broken.yaml', 'num-users: [1, 2\n')));
    expect(yaml.issues[0]?.field).toBe('--scenario');
    expect(yaml.message).toMatch(/the file must be valid YAML/);
    const json = configError(() => loadScenario(file('broken.json', '{"num-users": 3,')));
    expect(json.message).toMatch(/the file must be valid JSON/);
    const list = configError(() => loadScenario(file('list.yaml', '- 1\n- 2\n')));
    expect(list.message).toMatch(/must hold a mapping of field: value/);
    const empty = configError(() => loadScenario(file('empty.yaml', '')));
    expect(empty.message).toMatch(/must hold a mapping/);
  });

  it('a missing path is a ConfigError with the path', () => {
    const p = join(dir, 'nope.yaml');
    const err = configError(() => loadScenario(p));
    expect(err.issues[0]).toMatchObject({ field: '--scenario', value: p });
  });
});

describe('redactConfig', () => {
  it('removes the API key and keeps everything else', () => {
    const { config } = resolveConfig({ env: { OPENAI_API_KEY: 'sk-very-secret' }, flags: { 'base-url': 'http://h:1/v1' } });
    const red = redactConfig(config);
    expect(red.apiKey).toBe('<redacted>');
    expect(JSON.stringify(red)).not.toContain('sk-very-secret');
    const { apiKey: _a, ...rest } = red;
    const { apiKey: _b, ...orig } = config;
    expect(rest).toEqual(orig);
    expect(config.apiKey).toBe('sk-very-secret'); // the original is not modified
  });

  it('says null when there is no key', () => {
    expect(redactConfig(DEFAULT_CONFIG).apiKey).toBeNull();
  });
});
