// The shape of one `shoal` subcommand: its flags, usage text and `run`. The dispatcher (../run.ts) parses
// flags against `flags` plus the global ones, and hands `run` the context and the parsed arguments.

import type { FlagSpec, Parsed } from '../args.js';
import type { Context } from '../context.js';

/** A subcommand. `run` resolves with the exit code. */
export interface Command {
  name: string;
  aliases?: string[];
  summary: string;
  usage: string;
  flags: FlagSpec[];
  /** pass argv through untouched (apiserver, cni) instead of parsing flags */
  rawArgs?: boolean;
  run(ctx: Context, args: Parsed, rawArgv: string[]): Promise<number>;
}

/** -o values of the read commands. */
export const outputFlag: FlagSpec = { name: 'output', short: 'o', type: 'string', help: 'output format: wide, yaml, json or name', values: ['wide', 'yaml', 'json', 'name'] };
/** -l */
export const selectorFlag: FlagSpec = { name: 'selector', short: 'l', type: 'string', help: 'label selector, e.g. app=web,tier!=db' };
/** -A */
export const allNamespacesFlag: FlagSpec = { name: 'all-namespaces', short: 'A', type: 'bool', help: 'list across all namespaces' };
/** -f */
export const filenameFlag: FlagSpec = { name: 'filename', short: 'f', type: 'strings', help: 'a file, directory or - (stdin) with manifests; repeatable' };
/** -R */
export const recursiveFlag: FlagSpec = { name: 'recursive', short: 'R', type: 'bool', help: 'read directories given to -f recursively' };
/** --dry-run=server */
export const dryRunFlag: FlagSpec = { name: 'dry-run', type: 'bool', help: 'server: send the request with dryRun=All, nothing is persisted', values: ['server', 'none'], optionalValue: 'server' };

/** True when --dry-run=server (or bare --dry-run) was given. */
export function isServerDryRun(flags: Parsed['flags']): boolean {
  const v = flags['dry-run'];
  return v === true || v === 'server';
}
