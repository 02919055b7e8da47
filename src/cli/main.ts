// The command line: declares commands and flags, maps signals to an AbortSignal and errors to exit codes
// (0 ok, 1 unexpected failure, 2 invalid input, 4 target unreachable, 130 interrupted).
import { Command, CommanderError, Option, type OptionValues } from 'commander';
import { listBuiltinScenarios, loadScenario } from '../config/scenario.js';
import { ConfigError, ExitCode, InterruptedError, PdBenchError, TargetError } from '../errors.js';
import { SIM_FLAGS, parseSimOptions } from '../sim/sim-options.js';
import { VERSION } from '../version.js';
import type { CompareFlags } from './compare-command.js';
import type { GateFlags } from './gate-command.js';
import type { SweepFlags } from './sweep-command.js';
import { addRunOptions, explicitFlags } from './options.js';
import type { RunCommandOptions } from './run-command.js';

/**
 * A second signal this soon after the first is the same interrupt delivered twice (`pkill`, a service manager or a
 * batch system signalling every process of the job, pd-bench's single-CPU launcher among them), not a user asking
 * to force quit, which would skip writing the results.
 */
const SAME_INTERRUPT_MS = 1000;

function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  let firstAt: number | undefined;
  const onSignal = (name: NodeJS.Signals): void => {
    if (firstAt === undefined) {
      firstAt = Date.now();
      process.stderr.write(`\n${name}: stopping; in-flight requests are recorded as cancelled and results are written (again to force quit)\n`);
      ac.abort(`interrupted by ${name}`);
    } else if (Date.now() - firstAt >= SAME_INTERRUPT_MS) {
      process.exit(ExitCode.interrupted);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: ac.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export function buildProgram(): Command {
  const program = new Command('pd-bench')
    .description(
      'Multi-round QA benchmark for OpenAI-compatible LLM serving (vLLM production-stack PD routers and more).\n' +
        'With no --base-url, runs the run-pd workload against two embedded simulated stacks of 2 GPUs each\n' +
        '(colocated: 2 replicas; PD: 1 prefill + 1 decode), 40 s each, and prints them side by side.',
    )
    .version(VERSION)
    .showSuggestionAfterError(true)
    // The root command takes the run options too (for the demo); without this it would swallow a
    // subcommand's --base-url and friends.
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(`pd-bench: ${str.split('\n')[0]?.replace(/^error: /, '')} (see pd-bench --help)\n`) });
  // Registration order is the order of `pd-bench --help`.
  addDemoAction(program);
  addRunCommand(program);
  addCompareCommand(program);
  addGateCommand(program);
  addSweepCommand(program);
  addReportCommand(program);
  addScenariosCommand(program);
  addSimCommand(program);
  addMockCommand(program);
  return program;
}

/**
 * Runs a command body with SIGINT/SIGTERM mapped to an AbortSignal and sets the exit code it returns; the signal
 * handlers are removed however the body ends, so a finished command does not swallow later signals.
 */
async function withInterruptSignal(body: (signal: AbortSignal) => Promise<number>): Promise<void> {
  const { signal, dispose } = interruptSignal();
  try {
    process.exitCode = await body(signal);
  } finally {
    dispose();
  }
}

/** The run options `run` and the demo share (their flags parsed by addRunOptions). */
function runCommandOptions(o: OptionValues, flags: Record<string, unknown>, signal: AbortSignal): RunCommandOptions {
  return {
    scenario: o.scenario as string | undefined,
    flags,
    outputDir: o.outputDir as string | undefined,
    runId: o.runId as string | undefined,
    scrape: o.scrape as string[] | undefined,
    scrapeInterval: o.scrapeInterval as string | undefined,
    thresholds: o.threshold as string[] | undefined,
    slo: o.slo as string | undefined,
    signal,
  };
}

/**
 * --threshold (repeatable; run, compare, gate, the demo) and, where the command has none of its own, --slo for
 * goodput thresholds.
 */
function addThresholdOptions(cmd: Command, withSlo: boolean): Command {
  cmd.option('--threshold <expr>', "a check on the result, e.g. 'ttft.p99<2s', 'error_rate<1%', '!target.saturated' (repeat; exit 6 when one breaks)", collect);
  if (withSlo) cmd.option('--slo <spec>', 'per-request SLO for goodput and slo_attainment thresholds, e.g. ttft=2s,itl=50ms or a preset (dynamo-short, ...)');
  return cmd;
}

/** The root command: `run` when --base-url is given, else the simulated demo. */
function addDemoAction(program: Command): void {
  addThresholdOptions(addRunOptions(program), true).action(async (_opts, cmd: Command) => {
    const flags = explicitFlags(cmd);
    const o = cmd.opts();
    await withInterruptSignal(async (signal) => {
      const common = runCommandOptions(o, flags, signal);
      if (flags['base-url'] !== undefined) {
        const { runCommand } = await import('./run-command.js');
        return (await runCommand(common)).exitCode;
      }
      const { demoCommand } = await import('./demo-command.js');
      return (await demoCommand(common)).exitCode;
    });
  });
}

function addRunCommand(program: Command): void {
  addThresholdOptions(
    addRunOptions(
      program
        .command('run')
        .description('run a scenario against an OpenAI-compatible target (--base-url required); never starts a simulator'),
    ),
    true,
  ).action(async (_opts, cmd: Command) => {
    const o = cmd.opts();
    await withInterruptSignal(async (signal) => {
      const { runCommand } = await import('./run-command.js');
      const r = await runCommand(runCommandOptions(o, explicitFlags(cmd), signal));
      return r.exitCode;
    });
  });
}

/** Repeatable options collect their values in order. */
const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

function addCompareCommand(program: Command): void {
  const compare = addRunOptions(
    program
      .command('compare [dirs...]')
      .description(
        'run the identical workload (same seed, users, send times, prompts) against two or more targets and compare them\n' +
          'with paired bootstrap intervals, SLO goodput, comparison.csv and report.html; or compare saved result directories',
      ),
  )
    .option('--target <name=url[,model=m][,gpus=n][,api-key-env=VAR]>', 'a target to compare (repeat; two or more); its API key from $VAR or $OPENAI_API_KEY', collect)
    .option('--gpus <name=n>', 'GPUs behind a target, for per-GPU throughput and goodput (repeat)', collect)
    .option('--baseline <name>', 'the target the others are compared with (default: one named colocated or baseline, else the first)')
    .option('--order <order>', 'sequential (default; with a cool-down), interleaved (A B, B A, ... to cancel drift) or simultaneous (all at once, each at the full rate)')
    .option('--repeat <k>', 'runs per target (default: 2 for interleaved, else 1)')
    .option('--cooldown <seconds>', 'pause between runs (default: 10)')
    .option('--history <mode>', 'live (default: each target sees its own answers) or frozen (answers recorded once and replayed: byte-identical prompts)')
    .option('--answers <file>', 'with --history frozen: replay the answers.jsonl of an earlier comparison')
    .option('--slo <spec>', 'per-request SLO, e.g. ttft=2s,itl=50ms or a preset (chatbot, code, summarization, dynamo-short, dynamo-long); itl@p99=... checks a percentile within the request instead of its max')
    .option('--iterations <n>', 'bootstrap resamples (default: 2000)')
    .option('--confidence <level>', 'interval level (default: 0.95)')
    .option('--min-effect <change>', 'smaller relative changes get no verdict even when significant (default: 1%)')
    .option('--force', 'compare saved runs even when their workloads differ');
  addThresholdOptions(compare, false);
  compare.action(async (dirs: string[], _opts, cmd: Command) => {
    const o = cmd.opts();
    await withInterruptSignal(async (signal) => {
      const { compareCommand } = await import('./compare-command.js');
      const r = await compareCommand({
        scenario: o.scenario as string | undefined,
        flags: explicitFlags(cmd),
        compare: compareFlags(o),
        dirs,
        outputDir: o.outputDir as string | undefined,
        runId: o.runId as string | undefined,
        signal,
      });
      return r.exitCode;
    });
  });
}

function addSweepCommand(program: Command): void {
  const sweep = addRunOptions(
    program
      .command('sweep')
      .description(
        'capacity planning: run one or more targets over a load axis (--qps or --users: a list, from:to:step, or from:to:xfactor),\n' +
          'or search the largest load meeting an SLO (--find max-qps --slo SPEC); writes capacity.csv, capacity-summary.csv and\n' +
          'report.html. With no target, sweeps the two simulated stacks',
      ),
  )
    .option('--target <name=url[,model=m][,gpus=n][,api-key-env=VAR]>', 'a target to sweep (repeat); with one target --base-url works too', collect)
    .option('--gpus <name=n>', 'GPUs behind a target, for per-GPU capacity (repeat; with --base-url just n)', collect)
    .option('--baseline <name>', 'the target the others\' capacity per GPU is compared with (default: one named colocated or baseline, else the first)')
    .option('--users <spec>', 'sweep the number of users instead of --qps, each keeping the scenario\'s pace (users / qps seconds between a user\'s turns)')
    .option('--find <goal>', 'max-qps or max-users: bracket, then bisect, for the largest load meeting --slo')
    .option('--slo <spec>', 'per-request SLO, as for compare (e.g. ttft=2s,itl=25ms or dynamo-short)')
    .option('--attainment <share>', 'share of requests that must meet the SLO (default: 0.99)')
    .option('--precision <change>', '--find: stop when the bracket is this narrow, relative (default: 5%)')
    .option('--confidence <level>', 'level of the attainment intervals (default: 0.95)')
    .option('--max-probes <n>', '--find: runs of one load whose interval straddles the goal, at most (default: 3)')
    .option('--repeat <k>', 'runs per target at each point (default: 1)')
    .option('--cooldown <seconds>', 'pause between runs (default: the scenario\'s --pause)')
    .option('--max-points <n>', 'loads per target at most (default: 200; --find: 20)')
    .option('--all-points', 'run every point: no stop after the first saturated point or two points below the SLO goal');
  addThresholdOptions(sweep, false);
  sweep.action(async (_opts, cmd: Command) => {
    const o = cmd.opts();
    await withInterruptSignal(async (signal) => {
      const common = {
        scenario: o.scenario as string | undefined,
        flags: explicitFlags(cmd),
        sweep: sweepFlags(o),
        outputDir: o.outputDir as string | undefined,
        runId: o.runId as string | undefined,
        signal,
      };
      if (common.flags['base-url'] === undefined && !common.sweep.target?.length) {
        const { sweepDemo } = await import('./sweep-demo.js');
        return (await sweepDemo(common)).exitCode;
      }
      const { sweepCommand } = await import('./sweep-command.js');
      return (await sweepCommand(common)).exitCode;
    });
  });
}

function sweepFlags(o: OptionValues): SweepFlags {
  const str = (k: string): string | undefined => o[k] as string | undefined;
  return {
    target: o.target as string[] | undefined,
    gpus: o.gpus as string[] | undefined,
    baseline: str('baseline'),
    users: str('users'),
    find: str('find'),
    slo: str('slo'),
    attainment: str('attainment'),
    precision: str('precision'),
    confidence: str('confidence'),
    maxProbes: str('maxProbes'),
    repeat: str('repeat'),
    cooldown: str('cooldown'),
    maxPoints: str('maxPoints'),
    allPoints: o.allPoints === true,
    scrape: o.scrape as string[] | undefined,
    scrapeInterval: str('scrapeInterval'),
    threshold: o.threshold as string[] | undefined,
  };
}

function compareFlags(o: OptionValues): CompareFlags {
  return {
    target: o.target as string[] | undefined,
    gpus: o.gpus as string[] | undefined,
    baseline: o.baseline as string | undefined,
    order: o.order as string | undefined,
    repeat: o.repeat as string | undefined,
    cooldown: o.cooldown as string | undefined,
    history: o.history as string | undefined,
    answers: o.answers as string | undefined,
    slo: o.slo as string | undefined,
    iterations: o.iterations as string | undefined,
    confidence: o.confidence as string | undefined,
    minEffect: o.minEffect as string | undefined,
    scrape: o.scrape as string[] | undefined,
    scrapeInterval: o.scrapeInterval as string | undefined,
    force: o.force === true,
    threshold: o.threshold as string[] | undefined,
  };
}

function addGateCommand(program: Command): void {
  const gate = addThresholdOptions(
    addRunOptions(
      program
        .command('gate')
        .description(
          'nightly regression gate: run the scenario now (--base-url) or take a saved result (--current DIR) and compare it with a ' +
            'baseline (--baseline DIR or --baseline-store DIR), metric by metric with bootstrap intervals and tolerances, and check ' +
            'thresholds; exit 0 pass, 6 threshold breached, 7 regression, 8 inconclusive',
        ),
    ),
    true,
  )
    .option('--current <dir>', 'a saved run or comparison directory to gate instead of running now')
    .option('--baseline <dir>', 'a saved run or comparison directory to compare with (of the same workload)')
    .option('--baseline-store <dir>', "baselines by target label and workload fingerprint, and history.csv of every gate run")
    .option('--target-label <name>', 'the target: its key in the baseline store, and which target of a comparison directory (default: default)')
    .option('--tolerance <metric=change>', 'how much change a metric tolerates, e.g. ttft.p99=10%, itl=5% (its p50/p90/p99), error_rate=1% (points), or =off (repeat)', collect)
    .option('--update-baseline', "with --baseline-store: tonight's result becomes the baseline when the gate passes")
    .option('--label <text>', 'the history row\'s label (default: $GITHUB_SHA, $CI_COMMIT_SHA, $BUILDKITE_COMMIT, $CIRCLE_SHA1 or $GIT_COMMIT)')
    .option('--junit <file>', 'write a JUnit XML file: one test case per gated metric and threshold')
    .option('--markdown <file>', 'write the gate as markdown (also appended to $GITHUB_STEP_SUMMARY when set)')
    .option('--trend <n>', 'gate runs of this target and workload shown in the trend (default: 10)')
    .option('--iterations <n>', 'bootstrap resamples (default: 2000)')
    .option('--confidence <level>', 'interval level (default: 0.95)');
  gate.action(async (_opts, cmd: Command) => {
    const o = cmd.opts();
    await withInterruptSignal(async (signal) => {
      const { gateCommand } = await import('./gate-command.js');
      const r = await gateCommand({
        scenario: o.scenario as string | undefined,
        flags: explicitFlags(cmd),
        gate: gateFlags(o),
        outputDir: o.outputDir as string | undefined,
        runId: o.runId as string | undefined,
        scrape: o.scrape as string[] | undefined,
        scrapeInterval: o.scrapeInterval as string | undefined,
        signal,
      });
      return r.exitCode;
    });
  });
}

function gateFlags(o: OptionValues): GateFlags {
  const str = (k: string): string | undefined => o[k] as string | undefined;
  return {
    current: str('current'),
    baseline: str('baseline'),
    baselineStore: str('baselineStore'),
    targetLabel: str('targetLabel'),
    tolerance: o.tolerance as string[] | undefined,
    threshold: o.threshold as string[] | undefined,
    slo: str('slo'),
    iterations: str('iterations'),
    confidence: str('confidence'),
    junit: str('junit'),
    markdown: str('markdown'),
    updateBaseline: o.updateBaseline === true,
    label: str('label'),
    trend: str('trend'),
  };
}

function addReportCommand(program: Command): void {
  program
    .command('report <dir>')
    .description('regenerate report.html (and comparison.csv, or summary.csv) from a saved run or comparison directory')
    .option('--slo <spec>', 'SLO to evaluate (as for compare)')
    .option('--baseline <name>', 'the baseline target of a comparison')
    .option('--gpus <name=n>', 'GPUs behind a target (repeat)', collect)
    .option('--iterations <n>', 'bootstrap resamples (default: 2000)')
    .option('--confidence <level>', 'interval level (default: 0.95)')
    .option('--min-effect <change>', 'smaller relative changes get no verdict (default: 1%)')
    .action(async (dir: string, opts: { slo?: string; baseline?: string; gpus?: string[]; iterations?: string; confidence?: string; minEffect?: string }) => {
      const { reportCommand } = await import('./report-command.js');
      process.exitCode = await reportCommand({ dir, compare: opts });
    });
}

function addScenariosCommand(program: Command): void {
  program
    .command('scenarios')
    .description('list the built-in scenarios and their fields')
    .action(() => {
      for (const name of listBuiltinScenarios()) {
        const s = loadScenario(name);
        const fields = Object.entries(s.fields).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`).join(' ');
        process.stdout.write(`${name}: ${s.description ?? ''}\n  ${fields}\n`);
      }
    });
}

function addSimCommand(program: Command): void {
  const sim = program
    .command('sim')
    .description('serve a simulated stack (colocated or PD-disaggregated, calibrated presets) on 127.0.0.1; Ctrl-C stops it');
  for (const f of SIM_FLAGS) {
    const def = ` (default: ${String(f.default)})`;
    sim.addOption(new Option(f.arg ? `--${f.flag} <${f.arg}>` : `--${f.flag}`, f.description + (f.arg ? def : '')));
  }
  sim.action(async (_opts, cmd: Command) => {
    const opts = parseSimOptions(typedSimFlags(cmd));
    const { startStack } = await import('../sim/stack.js');
    const stack = await startStack(opts, opts.port);
    process.stderr.write(
      `simulated ${stack.topology} stack: ${stack.routerUrl} (${stack.servedModel}, preset ${stack.preset.name}, ${stack.gpus} GPUs` +
        `${stack.link ? `, link ${stack.link.name}` : ''})\n` +
        Object.entries(stack.engines).map(([role, urls]) => `  ${role}: ${urls.join(' ')} (/metrics on each)`).join('\n') +
        '\nCtrl-C to stop\n',
    );
    await untilInterrupted();
    await stack.close();
  });
}

/** Only the sim flags the user typed, keyed by flag name: parseSimOptions applies the defaults and checks. */
function typedSimFlags(cmd: Command): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  const values = cmd.opts();
  for (const f of SIM_FLAGS) {
    const key = f.flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    if (cmd.getOptionValueSource(key) === 'cli') raw[f.flag] = values[key];
  }
  return raw;
}

function addMockCommand(program: Command): void {
  program
    .command('mock')
    .description('serve a deterministic mock OpenAI-compatible API on 127.0.0.1 (for trying pd-bench out); Ctrl-C stops it')
    .option('--port <n>', 'port to listen on (default: 8000)', '8000')
    .option('--ttft-ms <ms>', 'time to first token (default: 50 ms)', '50')
    .option('--itl-ms <ms>', 'gap between tokens (default: 10 ms)', '10')
    .option('--model <name>', 'model name served (default: mock-model)', 'mock-model')
    .action(async (opts: { port: string; ttftMs: string; itlMs: string; model: string }) => {
      const { MockOpenAIServer, validateMockKnobs } = await import('../mock/mock-server.js');
      const port = numberFlag('--port', opts.port, 0, 65535);
      const knobs = validateMockKnobs({ ttftMs: numberFlag('--ttft-ms', opts.ttftMs, 0, 3_600_000), itlMs: numberFlag('--itl-ms', opts.itlMs, 0, 3_600_000), model: opts.model });
      const server = new MockOpenAIServer(knobs);
      const bound = await server.listen(port, '127.0.0.1');
      process.stderr.write(`mock server on http://127.0.0.1:${bound}/v1 (TTFT ${knobs.ttftMs} ms, ITL ${knobs.itlMs} ms); Ctrl-C to stop\n`);
      await untilInterrupted();
      await server.close();
    });
}

function numberFlag(flag: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new ConfigError([{ field: flag, value: v, allowed: `allowed: a number from ${min} to ${max}` }]);
  return n;
}

/** The servers run until Ctrl-C or a SIGTERM, then close cleanly. */
function untilInterrupted(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not errors; commander already printed the one-line message otherwise.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return ExitCode.ok;
      return ExitCode.invalidInput;
    }
    if (err instanceof ConfigError) {
      for (const line of err.message.split('\n')) process.stderr.write(`pd-bench: ${line}\n`);
      return ExitCode.invalidInput;
    }
    if (err instanceof InterruptedError) {
      process.stderr.write(`pd-bench: ${err.message}\n`);
      return ExitCode.interrupted;
    }
    if (err instanceof TargetError) {
      process.stderr.write(`pd-bench: ${err.message}\n`);
      return ExitCode.unreachable;
    }
    if (err instanceof PdBenchError) {
      process.stderr.write(`pd-bench: ${err.message}\n`);
      return ExitCode.failure;
    }
    process.stderr.write(`pd-bench: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return ExitCode.failure;
  }
}
