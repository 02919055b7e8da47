// Finds and reads scenario files (YAML or JSON, fields named like the CLI flags) from scenarios/ or a path.
// Reading files is this module's only IO; validation of the values happens in resolve.ts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, extname, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';

// yaml costs ~0.1 CPU-s to load and most processes read no YAML (flags only, JSON, a worker thread), so it is
// loaded on first use; require() because reading a scenario is synchronous.
let yaml: typeof import('yaml') | undefined;
function parseYaml(text: string): unknown {
  yaml ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml.parse(text);
}

/** The scenarios/ folder shipped with the package (two levels up from src/config or dist/config). */
export const BUILTIN_SCENARIO_DIR = fileURLToPath(new URL('../../scenarios/', import.meta.url));

export interface ScenarioFile {
  name: string;
  path: string;
  description: string | undefined;
  /** Raw field values keyed by option name (kebab-case), not yet validated. */
  fields: Record<string, unknown>;
  /**
   * The `thresholds:` list (k6-like checks such as `ttft.p99<2s`), as written: not a run option, so kept apart
   * from `fields`; gate/thresholds.ts parses them. loadScenario always sets it (empty when the file has none).
   */
  thresholds?: string[];
}

const EXTENSIONS = ['.yaml', '.yml', '.json'];

export function listBuiltinScenarios(): string[] {
  if (!existsSync(BUILTIN_SCENARIO_DIR)) return [];
  return readdirSync(BUILTIN_SCENARIO_DIR)
    .filter((f) => EXTENSIONS.includes(extname(f)))
    .map((f) => basename(f, extname(f)))
    .sort();
}

function locate(nameOrPath: string): string | undefined {
  const looksLikePath = nameOrPath.includes('/') || EXTENSIONS.includes(extname(nameOrPath));
  if (looksLikePath) {
    const p = resolvePath(nameOrPath);
    return existsSync(p) ? p : undefined;
  }
  for (const ext of EXTENSIONS) {
    const p = resolvePath(BUILTIN_SCENARIO_DIR, nameOrPath + ext);
    if (existsSync(p)) return p;
  }
  return undefined;
}

export function loadScenario(nameOrPath: string): ScenarioFile {
  const path = locate(nameOrPath);
  if (!path) {
    throw new ConfigError([
      {
        field: '--scenario',
        value: nameOrPath,
        allowed: `allowed: a built-in scenario (${listBuiltinScenarios().join(', ')}) or a path to a .yaml/.yml/.json file`,
      },
    ]);
  }
  let doc: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    doc = extname(path) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError([
      { field: '--scenario', value: nameOrPath, allowed: `the file must be valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}` },
    ]);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError([{ field: '--scenario', value: nameOrPath, allowed: 'the file must hold a mapping of field: value' }]);
  }
  const { name, description, thresholds, ...fields } = doc as Record<string, unknown>;
  return {
    name: typeof name === 'string' ? name : basename(path, extname(path)),
    path,
    description: typeof description === 'string' ? description : undefined,
    fields,
    thresholds: thresholdList(thresholds, path),
  };
}

/** `thresholds:` as a list of strings (one string is a list of one); anything else is a ConfigError. */
function thresholdList(raw: unknown, path: string): string[] {
  if (raw === undefined || raw === null) return [];
  if (typeof raw === 'string') return [raw];
  if (Array.isArray(raw) && raw.every((t) => typeof t === 'string')) return raw as string[];
  throw new ConfigError([{ field: 'thresholds', value: raw, allowed: 'allowed: a list of threshold expressions such as ["ttft.p99<2s", "error_rate<1%"]', source: `scenario ${path}` }]);
}
