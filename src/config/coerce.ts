// Turns one raw value (a CLI string or a scenario-file value) into a typed option value, or a ConfigIssue
// naming the field, the value and what is allowed. Pure; shared by flags and scenario files.
import type { ConfigIssue } from '../errors.js';
import type { OptionSpec, RunConfig } from './options.js';

type Value = RunConfig[keyof RunConfig];
export type Coerced = { ok: true; value: Value } | { ok: false; issue: ConfigIssue };

function describeRange(spec: OptionSpec): string {
  const parts: string[] = [];
  if (spec.above !== undefined) parts.push(`> ${spec.above}`);
  if (spec.min !== undefined) parts.push(`>= ${spec.min}`);
  if (spec.max !== undefined) parts.push(`<= ${spec.max}`);
  return parts.join(' and ');
}

export function allowedText(spec: OptionSpec): string {
  const unit = spec.unit ? ` (${spec.unit})` : '';
  switch (spec.type) {
    case 'int':
      return `allowed: an integer ${describeRange(spec)}${unit}`;
    case 'number':
      return `allowed: a number ${describeRange(spec)}${unit}`;
    case 'numberList':
      return `allowed: a number ${describeRange(spec)}${unit}, or a comma-separated list of them`;
    case 'enum':
      return `allowed: one of ${(spec.choices ?? []).join(', ')}`;
    case 'bool':
      return 'allowed: true or false';
    case 'url':
      return 'allowed: an http:// or https:// URL such as http://localhost:30080/v1';
    case 'string':
      return 'allowed: a non-empty string';
    case 'header':
      return `allowed: an HTTP header name (letters, digits and !#$%&'*+.^_\`|~-) other than ${RESERVED_HEADERS.join(', ')}`;
  }
}

/** Headers pd-bench sets itself: a session header by one of these names would replace or duplicate them. */
const RESERVED_HEADERS = ['authorization', 'content-type', 'content-length', 'accept', 'host', 'transfer-encoding', 'connection'];
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The URL with any password masked, for messages. */
function maskUrl(u: URL): string {
  const m = new URL(u.href);
  if (m.password) m.password = '***';
  return m.href;
}

function numberOk(spec: OptionSpec, n: number): boolean {
  if (!Number.isFinite(n)) return false;
  if (spec.type === 'int' && !Number.isInteger(n)) return false;
  if (spec.above !== undefined && !(n > spec.above)) return false;
  if (spec.min !== undefined && n < spec.min) return false;
  if (spec.max !== undefined && n > spec.max) return false;
  return true;
}

function toNumber(raw: unknown): number {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string' && raw.trim() !== '') return Number(raw.trim());
  return Number.NaN;
}

export function coerce(spec: OptionSpec, raw: unknown, source: string): Coerced {
  const fail = (): Coerced => ({
    ok: false,
    issue: { field: source === 'command line' ? `--${spec.name}` : spec.name, value: raw, allowed: allowedText(spec), source },
  });
  switch (spec.type) {
    case 'int':
    case 'number': {
      const n = toNumber(raw);
      return numberOk(spec, n) ? { ok: true, value: n } : fail();
    }
    case 'numberList': {
      const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : [raw];
      if (items.length === 0) return fail();
      const values = items.map(toNumber);
      return values.every((n) => numberOk(spec, n)) ? { ok: true, value: values } : fail();
    }
    case 'enum':
      return typeof raw === 'string' && (spec.choices ?? []).includes(raw) ? { ok: true, value: raw } : fail();
    case 'bool':
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      if (raw === 'true') return { ok: true, value: true };
      if (raw === 'false') return { ok: true, value: false };
      return fail();
    case 'url': {
      if (typeof raw !== 'string') return fail();
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        return fail();
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') return fail();
      const field = source === 'command line' ? `--${spec.name}` : spec.name;
      // Credentials in a URL would be written to every result file (and are not sent by the client anyway).
      if (u.username || u.password) {
        return { ok: false, issue: { field, value: maskUrl(u), allowed: 'allowed: a URL without user:password@; give the token with --api-key or OPENAI_API_KEY', source } };
      }
      if (u.search || u.hash) {
        return { ok: false, issue: { field, value: maskUrl(u), allowed: 'allowed: a URL without ?query or #fragment (pd-bench appends /chat/completions or /completions to its path)', source } };
      }
      return { ok: true, value: raw.replace(/\/+$/, '') };
    }
    case 'header':
      return typeof raw === 'string' && HEADER_NAME.test(raw) && !RESERVED_HEADERS.includes(raw.toLowerCase()) ? { ok: true, value: raw.toLowerCase() } : fail();
    case 'string':
      return typeof raw === 'string' && raw.length > 0 ? { ok: true, value: raw } : fail();
  }
}
