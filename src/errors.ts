// The error family: stable codes so callers (CLI exit codes, tests) can branch on `code`, not on text.
// Config errors are thrown before any request; per-request failures are recorded, never thrown.

export type PdBenchErrorCode =
  | 'PDB_CONFIG'
  | 'PDB_TARGET_UNREACHABLE'
  | 'PDB_TARGET_REJECTED'
  | 'PDB_INTERRUPTED'
  | 'PDB_INTERNAL';

export class PdBenchError extends Error {
  readonly code: PdBenchErrorCode;
  constructor(code: PdBenchErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One problem with one input field: the field, the value given, and what is allowed. */
export interface ConfigIssue {
  field: string;
  value: unknown;
  allowed: string;
  source?: string;
}

export function formatIssue(i: ConfigIssue): string {
  const where = i.source ? ` (in ${i.source})` : '';
  return `invalid ${i.field}${where}: ${JSON.stringify(i.value)} — ${i.allowed}`;
}

/** Every config problem at once (k6's Validate()), one line each. */
export class ConfigError extends PdBenchError {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super('PDB_CONFIG', issues.map(formatIssue).join('\n'));
    this.issues = issues;
  }
}

/** The target could not be reached or did not behave like an OpenAI-compatible server in the preflight. */
export class TargetError extends PdBenchError {
  readonly url: string;
  readonly status: number | undefined;
  readonly bodyExcerpt: string | undefined;
  constructor(
    code: 'PDB_TARGET_UNREACHABLE' | 'PDB_TARGET_REJECTED',
    url: string,
    message: string,
    options?: { cause?: unknown; status?: number; bodyExcerpt?: string },
  ) {
    super(code, message, options);
    this.url = url;
    this.status = options?.status;
    this.bodyExcerpt = options?.bodyExcerpt;
  }
}

/** The user interrupted (SIGINT/SIGTERM) before the run itself began, e.g. during the preflight. */
export class InterruptedError extends PdBenchError {
  constructor(message: string) {
    super('PDB_INTERRUPTED', message);
  }
}

/** Exit codes are an API (documented in the README). */
export const ExitCode = {
  ok: 0,
  failure: 1,
  invalidInput: 2,
  unhealthy: 3,
  unreachable: 4,
  /** --fail-on-saturation and a target could not keep up with the offered load. */
  saturated: 5,
  /** A --threshold (or a scenario's `thresholds:`) was breached: run, compare (any target), gate. */
  thresholdBreached: 6,
  /** `gate`: a gated metric's whole interval is worse than its tolerance against the baseline. */
  regression: 7,
  /** `gate`: no verdict is possible (client unhealthy, target saturated, too few samples, no baseline). */
  inconclusive: 8,
  /** `sweep` with --slo: no load tried met the SLO for some target (its capacity is below the lowest load). */
  noCapacity: 9,
  interrupted: 130,
} as const;

/**
 * Gathers the issues of several independent validation steps, so that a command reports every problem with its
 * input at once, before anything runs: each step that throws a ConfigError adds its issues and yields undefined;
 * any other error is a bug and passes through.
 */
export class IssueCollector {
  readonly issues: ConfigIssue[] = [];

  attempt<T>(step: () => T): T | undefined {
    try {
      return step();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      this.issues.push(...err.issues);
      return undefined;
    }
  }

  add(issue: ConfigIssue): void {
    this.issues.push(issue);
  }

  /** Throws one ConfigError with everything gathered (nothing when there is nothing). */
  throwIfAny(): void {
    if (this.issues.length > 0) throw new ConfigError(this.issues);
  }
}
