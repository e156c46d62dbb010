// kubectl-style flag parsing: `--name=value`, `--name value`, `-n value`, `-nvalue`, `-o=yaml`, booleans
// with optional `=true|false`, repeated string flags, `--` ending flags, and `-` as a positional (stdin).
// Every problem is collected, so `main` reports all bad flags at once and exits 64.

import { parseDuration as parseGoDuration } from '../lib/time/duration.js';

/** One flag a command accepts. */
export interface FlagSpec {
  name: string;
  short?: string;
  type: 'bool' | 'string' | 'strings' | 'int' | 'duration';
  help: string;
  /** allowed values of a string flag */
  values?: readonly string[];
  /** a bool flag may also be given as `--flag=value` for these string values (e.g. --dry-run=server) */
  optionalValue?: string;
}

/** Parsed flags and positionals. */
export interface Parsed {
  flags: Record<string, string | boolean | number | string[] | undefined>;
  positionals: string[];
  problems: string[];
}

/** Parse `argv` against `specs`; unknown flags and bad values become problems. */
export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[]): Parsed {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const flags: Parsed['flags'] = {};
  const positionals: string[] = [];
  const problems: string[] = [];

  const set = (spec: FlagSpec, raw: string | undefined, shown: string) => {
    if (spec.type === 'bool') {
      if (raw === undefined || raw === 'true') flags[spec.name] = true;
      else if (raw === 'false') flags[spec.name] = false;
      else if (spec.optionalValue !== undefined && spec.values?.includes(raw)) flags[spec.name] = raw;
      else problems.push(`invalid argument ${JSON.stringify(raw)} for "${shown}" flag: ${spec.values ? `must be one of ${spec.values.join(', ')}` : 'must be true or false'}`);
      return;
    }
    if (raw === undefined) {
      problems.push(`flag needs an argument: ${shown}`);
      return;
    }
    if (spec.type === 'int') {
      if (!/^-?\d+$/.test(raw)) return void problems.push(`invalid argument ${JSON.stringify(raw)} for "${shown}" flag: must be an integer`);
      flags[spec.name] = Number(raw);
    } else if (spec.type === 'duration') {
      const secs = parseDuration(raw);
      if (secs === undefined) return void problems.push(`invalid argument ${JSON.stringify(raw)} for "${shown}" flag: must be a duration such as 30s, 5m or 1h`);
      flags[spec.name] = secs;
    } else if (spec.type === 'strings') {
      const prev = (flags[spec.name] as string[] | undefined) ?? [];
      flags[spec.name] = [...prev, raw];
    } else {
      if (spec.values && !spec.values.includes(raw)) return void problems.push(`invalid argument ${JSON.stringify(raw)} for "${shown}" flag: must be one of ${spec.values.join(', ')}`);
      flags[spec.name] = raw;
    }
  };

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const spec = byName.get(name);
      if (!spec) {
        problems.push(`unknown flag: --${name}`);
        continue;
      }
      let raw = eq < 0 ? undefined : a.slice(eq + 1);
      if (raw === undefined && spec.type !== 'bool') raw = argv[++i];
      set(spec, raw, `--${name}`);
    } else if (a.startsWith('-') && a !== '-' && a.length > 1) {
      const letter = a[1]!;
      const spec = byShort.get(letter);
      if (!spec) {
        problems.push(`unknown shorthand flag: '${letter}' in ${a}`);
        continue;
      }
      let raw: string | undefined = a.length > 2 ? a.slice(2).replace(/^=/, '') : undefined;
      if (spec.type === 'bool' && raw !== undefined) {
        // `-Rf x` style clusters are not supported; `-A=false` is
        if (!a.startsWith(`-${letter}=`)) {
          problems.push(`unknown shorthand flag cluster: ${a}`);
          continue;
        }
      }
      if (raw === undefined && spec.type !== 'bool') raw = argv[++i];
      set(spec, raw, `-${letter}, --${spec.name}`);
    } else {
      positionals.push(a);
    }
  }
  return { flags, positionals, problems };
}

/** `30s`, `5m`, `1h`, `1m30s` or plain seconds `30` → seconds (lib/time's Go syntax); undefined when malformed. */
export function parseDuration(s: string): number | undefined {
  const ms = parseGoDuration(s, { bareSeconds: true });
  return ms === undefined ? undefined : ms / 1000;
}

/** Global flags every command accepts. */
export const globalFlags: readonly FlagSpec[] = [
  { name: 'kubeconfig', type: 'string', help: 'path to the kubeconfig file' },
  { name: 'context', type: 'string', help: 'the kubeconfig context to use' },
  { name: 'server', short: 's', type: 'string', help: 'the address of the API server (overrides the kubeconfig)' },
  { name: 'token', type: 'string', help: 'bearer token (overrides the kubeconfig)' },
  { name: 'namespace', short: 'n', type: 'string', help: 'the namespace for this request' },
  { name: 'home', type: 'string', help: 'state dir of the cluster (default $SHOAL_HOME or /var/lib/shoal)' },
  { name: 'request-timeout', type: 'duration', help: 'give up on a request (and end a watch) after this long, e.g. 30s' },
  { name: 'help', short: 'h', type: 'bool', help: 'help for this command' },
];

/** Split argv into the command name and the rest, skipping global flags (and their values) before it. */
export function splitCommand(argv: readonly string[]): { command: string | undefined; rest: string[] } {
  const valued = new Set(globalFlags.filter((f) => f.type !== 'bool').flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a.startsWith('-') && a !== '-') {
      if (valued.has(a)) i++;
      continue;
    }
    return { command: a, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { command: undefined, rest: [...argv] };
}
