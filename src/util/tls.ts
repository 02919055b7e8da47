// TLS trust for HTTPS targets (--ca-file, --insecure): the settings every connection pd-bench opens to a target
// uses (the run's pool, the preflight, the /tokenize client, the metrics scraper), read and checked once before
// any traffic, and the words for a certificate that failed verification.
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { ConfigError } from '../errors.js';

/** undici's `connect` options for TLS; undefined where neither flag is given (Node's own trust store applies). */
export interface TlsSettings {
  /**
   * Trusts Node's bundled roots, NODE_EXTRA_CA_CERTS and the --ca-file bundle. Built once and shared: given a `ca`
   * list instead, Node would parse all ~150 certificates again for every connection (about 50 ms of CPU each),
   * inflating the latency of every request that opens one.
   */
  secureContext?: SecureContext;
  rejectUnauthorized: boolean;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The certificates of a PEM bundle; throws when it holds none or one does not parse. */
function pemCertificates(text: string): string[] {
  const certs = text.match(PEM_CERT) ?? [];
  if (certs.length === 0) throw new Error('no PEM certificate in it (expected -----BEGIN CERTIFICATE----- blocks)');
  certs.forEach((pem, i) => {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw new Error(`certificate ${i + 1} of ${certs.length} does not parse (${(err as Error).message})`);
    }
  });
  return certs;
}

function readCaFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new ConfigError([{ field: '--ca-file', value: path, allowed: `cannot read it: ${why}; allowed: a PEM file of CA certificates` }]);
  }
  try {
    return pemCertificates(text);
  } catch (err) {
    throw new ConfigError([{ field: '--ca-file', value: path, allowed: `${(err as Error).message}; allowed: a PEM file of CA certificates` }]);
  }
}

/**
 * A `ca` option replaces Node's trust store rather than adding to it, so the bundled roots and NODE_EXTRA_CA_CERTS
 * (which Node reads only into its default store) go in too: --ca-file adds trust, it never takes any away.
 */
function extraCaCerts(env: Record<string, string | undefined>): string[] {
  const path = env.NODE_EXTRA_CA_CERTS;
  if (!path) return [];
  try {
    return pemCertificates(readFileSync(path, 'utf8'));
  } catch {
    // Node has already warned about an unusable NODE_EXTRA_CA_CERTS at startup; it is not ours to reject.
    return [];
  }
}

/**
 * The TLS settings of --ca-file and --insecure (undefined when neither is given). A missing, unreadable or non-PEM
 * CA file is a ConfigError (exit 2, before any traffic).
 */
export function tlsSettings(o: { caFile?: string | undefined; insecure?: boolean | undefined }, env: Record<string, string | undefined> = process.env): TlsSettings | undefined {
  if (o.caFile === undefined && !o.insecure) return undefined;
  const settings: TlsSettings = { rejectUnauthorized: !o.insecure };
  if (o.caFile !== undefined) settings.secureContext = createSecureContext({ ca: trustedCas(o.caFile, env) });
  return settings;
}

/** Every CA certificate (PEM) trusted with --ca-file: Node's bundled roots, NODE_EXTRA_CA_CERTS, then the file's. */
export function trustedCas(caFile: string, env: Record<string, string | undefined> = process.env): string[] {
  return [...rootCertificates, ...extraCaCerts(env), ...readCaFile(caFile)];
}

/** The one line printed when --insecure is used. */
export const INSECURE_WARNING = 'warning: --insecure: TLS certificates are not verified; anyone on the network path can read or alter the traffic';

// Node's and OpenSSL's codes for a certificate that could not be verified.
const CERT_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REVOKED',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function codesOf(err: unknown): string[] {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  return [e?.code, e?.cause?.code].filter((c): c is string => typeof c === 'string');
}

/** Whether a request failed because the server's certificate could not be verified. */
export function isCertificateError(err: unknown): boolean {
  return codesOf(err).some((c) => CERT_CODES.has(c));
}

/**
 * What to do about a TLS failure, for the end of an error message ('' for other errors): a certificate that did
 * not verify names the two flags; a handshake that failed at the protocol level is usually http vs https.
 */
export function tlsHint(err: unknown): string {
  if (isCertificateError(err)) {
    return ' (the TLS certificate could not be verified: trust its CA with --ca-file PATH or NODE_EXTRA_CA_CERTS, or skip verification with --insecure on a test stack)';
  }
  if (codesOf(err).some((c) => c.startsWith('ERR_SSL_') || c === 'EPROTO')) return ' (TLS handshake failed: does the URL scheme, http:// or https://, match the server?)';
  return '';
}
