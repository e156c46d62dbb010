// How the CLI reports failures, in kubectl's words: `Error from server (NotFound): pods "x" not found`,
// `error: the server doesn't have a resource type "foo"`, `The connection to the server ... was refused`.
// Formatting lives here only; commands throw or hand errors to `formatError`.

import { KubeApiError } from '../api/client/errors.js';
import { KubeconfigError } from '../api/client/config.js';

/** A failure the CLI reports as `error: <message>` with an exit code (1, or 64 for usage). */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CliError';
  }
}

/** A usage problem (bad flag, missing argument): exit 64. */
export class UsageError extends CliError {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'), 64);
    this.name = 'UsageError';
  }
}

/**
 * A manifest whose kind the server does not serve, worded as kubectl's resource builder words it:
 * `resource mapping not found for name: "x" namespace: "" from "f.yaml": no matches for kind "X" in
 * version "g/v1"` and `ensure CRDs are installed first` on the next line.
 */
export class NoKindMatchError extends CliError {
  constructor(name: string, namespace: string, source: string, cause: Error) {
    super(`resource mapping not found for name: "${name}" namespace: "${namespace}" from "${source}": ${cause.message}\nensure CRDs are installed first`);
    this.name = 'NoKindMatchError';
  }
}

/** kubectl's one-line description of an error, optionally saying what was being done (`error when creating "app.yaml"`). */
export function formatError(e: unknown, doing?: string): string {
  if (e instanceof NoKindMatchError) return `error: ${e.message}`;
  const prefix = doing ? `${doing}: ` : '';
  if (e instanceof KubeApiError) {
    const reason = e.reason || 'Unknown';
    return `Error from server (${reason}): ${prefix}${e.message}`;
  }
  const err = e as NodeJS.ErrnoException;
  if (err?.message?.startsWith('Unable to connect to the server')) {
    if (err.code === 'ECONNREFUSED') {
      const m = /server: (\w+:\/\/)?([^/\s]+)/.exec(err.message);
      return `The connection to the server ${m?.[2] ?? ''} was refused - did you specify the right host or port?`;
    }
    return `${prefix}${err.message}`;
  }
  if (e instanceof KubeconfigError) return `error: ${prefix}error loading config file ${e.message}`;
  return `error: ${prefix}${err?.message ?? String(e)}`;
}
