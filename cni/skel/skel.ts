// The CNI dispatcher (in the spirit of the reference `skel` package): it reads the CNI_* environment
// and the config on stdin, checks what every command requires, negotiates the version, calls one
// entry of a plugin's table {add, del, check, status, gc} and prints the result (converted to the
// config's version) or the spec's error JSON. It takes env/stdin/stdout as arguments, so tests and
// the resident daemon call plugins in-process; only cni/standalone binds it to the real process.

import { CniCode, CniError, asCniError } from '../spec/errors.js';
import type { NetConf, Result } from '../spec/types.js';
import { convertResult, currentVersion, isVersion, parseResult, requireSupported } from '../spec/version.js';

/** The commands of CNI 1.1.0. */
export type Command = 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC' | 'VERSION';

/** Everything one invocation gives a plugin. */
export interface CmdArgs {
  command: Command;
  containerID: string;
  netns: string;
  ifName: string;
  /** CNI_ARGS parsed as `K=V;K=V`. */
  args: Record<string, string>;
  /** CNI_PATH split on ':'. */
  path: string[];
  /** The raw config bytes (delegation passes them on unchanged). */
  stdin: Buffer;
  conf: NetConf;
  /** `conf.prevResult` in the 1.1.0 shape, when chained. */
  prevResult: Result | undefined;
  /** The CNI_* environment as given (delegation passes it on). */
  env: Readonly<Record<string, string | undefined>>;
  /** Writes one line to stderr (the only place a plugin logs). */
  log(msg: string): void;
}

/** A plugin: one function per command. VERSION is answered by the dispatcher. */
export interface PluginTable {
  name: string;
  supportedVersions: readonly string[];
  add(a: CmdArgs): Promise<Result>;
  del(a: CmdArgs): Promise<void>;
  check(a: CmdArgs): Promise<void>;
  status(a: CmdArgs): Promise<void>;
  gc(a: CmdArgs): Promise<void>;
}

/** Where an invocation reads and writes: the process, a test, or a daemon connection. */
export interface PluginIO {
  env: Readonly<Record<string, string | undefined>>;
  stdin: Buffer | string;
  stdout(s: string): void;
  stderr(s: string): void;
}

const commands: readonly Command[] = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION'];

/** Which CNI_* variables each command needs (CNI spec 1.1.0, "Parameters"). */
export const requiredEnv: Record<Command, readonly string[]> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_PATH'],
  STATUS: ['CNI_PATH'],
  GC: ['CNI_PATH'],
  VERSION: [],
};

/** Parses CNI_ARGS (`IgnoreUnknown=1;IP=10.0.0.5`); throws code 4 when malformed. */
export function parseCniArgs(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const pair of text.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CniError(CniCode.InvalidEnvironment, `CNI_ARGS: invalid pair ${JSON.stringify(pair)}, want KEY=VALUE`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

function checkEnv(cmd: Command, env: PluginIO['env']): void {
  const missing = requiredEnv[cmd].filter((k) => !env[k]);
  if (missing.length) {
    throw new CniError(CniCode.InvalidEnvironment, `required environment variables missing for ${cmd}: ${missing.join(', ')}`);
  }
  const id = env.CNI_CONTAINERID;
  if (id !== undefined && id !== '' && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(id)) {
    throw new CniError(CniCode.InvalidEnvironment, `CNI_CONTAINERID: invalid characters in ${JSON.stringify(id)}`);
  }
  const ifn = env.CNI_IFNAME;
  if (ifn !== undefined && ifn !== '' && (ifn.length > 15 || /[/:\s]/.test(ifn) || ifn === '.' || ifn === '..')) {
    throw new CniError(CniCode.InvalidEnvironment, `CNI_IFNAME: invalid interface name ${JSON.stringify(ifn)}`);
  }
}

function decodeConf(stdin: Buffer, plugin: PluginTable): NetConf {
  let conf: unknown;
  try {
    conf = JSON.parse(stdin.toString('utf8'));
  } catch (e) {
    throw new CniError(CniCode.DecodingFailure, `stdin: failed to decode network configuration: ${(e as Error).message}`);
  }
  if (!conf || typeof conf !== 'object' || Array.isArray(conf)) {
    throw new CniError(CniCode.DecodingFailure, 'stdin: network configuration must be a JSON object');
  }
  const c = conf as NetConf;
  if (c.cniVersion === undefined) throw new CniError(CniCode.IncompatibleVersion, 'cniVersion: Required value');
  if (!isVersion(c.cniVersion)) throw new CniError(CniCode.IncompatibleVersion, `cniVersion: Invalid value: ${JSON.stringify(c.cniVersion)}`);
  requireSupported(c.cniVersion, plugin.supportedVersions);
  if (typeof c.name !== 'string' || c.name === '') throw new CniError(CniCode.InvalidNetworkConfig, 'name: Required value');
  return c;
}

/** Runs one CNI invocation; resolves to the process exit code (0 success, 1 failure). */
export async function dispatch(plugin: PluginTable, io: PluginIO): Promise<number> {
  const stdin = typeof io.stdin === 'string' ? Buffer.from(io.stdin) : io.stdin;
  let version = currentVersion;
  try {
    const cmd = io.env.CNI_COMMAND;
    if (!cmd) {
      io.stderr(`CNI ${plugin.name} plugin (Shoal); CNI protocol versions supported: ${plugin.supportedVersions.join(', ')}\n`);
      return 0;
    }
    if (!commands.includes(cmd as Command)) {
      throw new CniError(CniCode.InvalidEnvironment, `CNI_COMMAND: unknown command ${JSON.stringify(cmd)}`);
    }
    const command = cmd as Command;
    if (command === 'VERSION') {
      io.stdout(JSON.stringify({ cniVersion: currentVersion, supportedVersions: plugin.supportedVersions }));
      return 0;
    }
    checkEnv(command, io.env);
    const conf = decodeConf(stdin, plugin);
    version = conf.cniVersion;
    const args: CmdArgs = {
      command,
      containerID: io.env.CNI_CONTAINERID ?? '',
      netns: io.env.CNI_NETNS ?? '',
      ifName: io.env.CNI_IFNAME ?? '',
      args: parseCniArgs(io.env.CNI_ARGS),
      path: (io.env.CNI_PATH ?? '').split(':').filter(Boolean),
      stdin,
      conf,
      prevResult: conf.prevResult === undefined ? undefined : parseResult(conf.prevResult),
      env: io.env,
      log: (m) => io.stderr(`${plugin.name}: ${m}\n`),
    };
    if (command === 'ADD') {
      const res = await plugin.add(args);
      io.stdout(JSON.stringify(convertResult(res, version)));
    } else if (command === 'DEL') await plugin.del(args);
    else if (command === 'CHECK') {
      if (compareMajor(version) < 0) throw new CniError(CniCode.IncompatibleVersion, `cniVersion: CHECK needs 0.4.0 or later, config is ${version}`);
      await plugin.check(args);
    } else if (command === 'STATUS') await plugin.status(args);
    else await plugin.gc(args);
    return 0;
  } catch (e) {
    const err = asCniError(e);
    io.stdout(JSON.stringify(err.toJSON(version)));
    if (!(e instanceof CniError)) io.stderr(`${plugin.name}: unexpected error: ${err.message}\n`);
    return 1;
  }
}

function compareMajor(v: string): number {
  const [a, b] = v.split('.').map(Number);
  return a > 0 || b >= 4 ? 0 : -1;
}
