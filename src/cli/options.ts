// Declares the run options on a commander command from the one options table, and reads back only the flags
// the user actually typed (so scenario values are not overwritten by defaults).
import { Option, type Command } from 'commander';
import { RUN_OPTIONS } from '../config/options.js';

function defaultText(value: unknown, unit: string | undefined): string {
  if (value === undefined) return '';
  const v = Array.isArray(value) ? value.join(',') : String(value);
  return ` (default: ${v}${unit ? ' ' + unit : ''})`;
}

export function addRunOptions(cmd: Command): Command {
  cmd.option('-s, --scenario <name|path>', 'scenario to start from: run-pd, multi-round-qa, run-single, warmup, or a YAML/JSON file; flags override its fields');
  for (const o of RUN_OPTIONS) {
    if (o.type === 'bool') {
      const flag = o.default === true ? `--no-${o.name}` : `--${o.name}`;
      const text = o.default === true ? `skip: ${o.description} (default: ${o.name} on)` : `${o.description} (default: off)`;
      cmd.addOption(new Option(flag, text));
    } else {
      const unit = o.unit && o.default === undefined ? ` (${o.unit})` : '';
      cmd.addOption(new Option(`--${o.name} <${o.arg ?? 'value'}>`, o.description + unit + defaultText(o.default, o.unit)));
    }
  }
  cmd.option('--scrape <role=url>', 'scrape a Prometheus /metrics endpoint (prefill, decode, router, ...) during each run (repeat); compare: target:role=url', (v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
  cmd.option('--scrape-interval <seconds>', 'seconds between scrapes (default: 5)');
  cmd.option('-o, --output-dir <dir>', 'where results go (default: results/<run-id>)');
  cmd.option('--run-id <id>', 'name of this run (default: <UTC timestamp>-<scenario>)');
  return cmd;
}

/** Flags given on the command line, keyed by option name (kebab-case), raw. */
export function explicitFlags(cmd: Command): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const values = cmd.opts();
  for (const o of RUN_OPTIONS) {
    const key = o.key as string;
    const src = cmd.getOptionValueSource(key);
    if (src === 'cli' && values[key] !== undefined) out[o.name] = values[key];
  }
  return out;
}
