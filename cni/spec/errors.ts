// The CNI error codes (CNI spec 1.1.0, "Error" section) and the one error class every plugin and the
// runtime library throw. A plugin never prints a stack trace: the dispatcher (cni/skel) turns a
// CniError into the spec's error JSON `{cniVersion, code, msg, details}` on stdout, and any other
// thrown value into code 999 with its message only.

import { type FieldError, formatFieldError } from '../../api/field.js';

/** The spec's well-known error codes; 100+ are plugin-specific. */
export const CniCode = {
  /** Incompatible CNI version. */
  IncompatibleVersion: 1,
  /** Unsupported field in the network configuration; the message names the field. */
  UnsupportedField: 2,
  /** Container unknown or does not exist. */
  UnknownContainer: 3,
  /** Invalid or missing environment variable; the message names it. */
  InvalidEnvironment: 4,
  /** I/O failure, e.g. could not read stdin. */
  IOFailure: 5,
  /** Failed to decode content (JSON). */
  DecodingFailure: 6,
  /** Invalid network configuration. */
  InvalidNetworkConfig: 7,
  /** Try again later: a transient condition (e.g. a lock held too long). */
  TryAgainLater: 11,
  /** The plugin is not available: ADD would fail (e.g. IPAM range exhausted). */
  NotAvailable: 50,
  /** The plugin is available with limited connectivity. */
  LimitedConnectivity: 51,
  /** Shoal-specific: a kernel operation (ip, nft) failed. */
  KernelFailure: 100,
  /** Generic failure with no better code. */
  Generic: 999,
} as const;

/** One of the codes in CniCode (or any plugin-specific number a foreign plugin returned). */
export type CniCodeValue = number;

/** The error JSON a plugin prints on stdout. */
export interface CniErrorJson {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

/** A CNI failure with its spec code. `details` carries extra context (e.g. every DEL error). */
export class CniError extends Error {
  readonly code: number;
  readonly details: string | undefined;

  constructor(code: number, msg: string, details?: string) {
    super(msg);
    this.name = 'CniError';
    this.code = code;
    this.details = details;
  }

  /** The spec's error JSON for this error under `cniVersion`. */
  toJSON(cniVersion: string): CniErrorJson {
    return { cniVersion, code: this.code, msg: this.message, ...(this.details ? { details: this.details } : {}) };
  }

  /** Rebuilds the error a plugin printed (used by the runtime and by delegation). */
  static fromJson(j: unknown, fallback: string): CniError {
    const o = (j ?? {}) as Partial<CniErrorJson>;
    if (typeof o.code === 'number' && typeof o.msg === 'string') return new CniError(o.code, o.msg, o.details);
    return new CniError(CniCode.Generic, fallback);
  }
}

/** A code-7 error listing every field error (`ipam.ranges[0][0].gateway: Invalid value: ...`). */
export function configError(errs: FieldError[], code: number = CniCode.InvalidNetworkConfig): CniError {
  const lines = errs.map(formatFieldError);
  return new CniError(code, lines.join('; '), lines.length > 1 ? lines.join('\n') : undefined);
}

/** Wraps any thrown value into a CniError without losing an existing code. */
export function asCniError(e: unknown, context?: string): CniError {
  if (e instanceof CniError) return context ? new CniError(e.code, `${context}: ${e.message}`, e.details) : e;
  const msg = e instanceof Error ? e.message : String(e);
  return new CniError(CniCode.Generic, context ? `${context}: ${msg}` : msg);
}
