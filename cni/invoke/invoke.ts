// Running a plugin, for the runtime library and for IPAM delegation: find its executable in
// CNI_PATH, run it with the CNI_* environment and the config on stdin, and turn its stdout into a
// result or a typed CniError. Shoal's own plugins can be registered to run in-process (no fork, no
// Node start-up), which is how the bridge calls shoal-ipam. Process spawning is lib/host's Runner.

import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { realRunner, type Runner } from '../../lib/host/run.js';
import { type Command, type PluginTable, dispatch } from '../skel/skel.js';
import { CniCode, CniError } from '../spec/errors.js';

/** Finds `type` in the CNI_PATH directories; throws code 7 naming `field` when absent. */
export function findInPath(type: string, dirs: readonly string[], field = 'type'): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(type)) {
    throw new CniError(CniCode.InvalidNetworkConfig, `${field}: Invalid value: ${JSON.stringify(type)}: not a plugin name`);
  }
  for (const d of dirs) {
    const p = join(d, type);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next dir */
    }
  }
  throw new CniError(CniCode.InvalidNetworkConfig, `${field}: plugin ${JSON.stringify(type)} not found in CNI_PATH [${dirs.join(':')}]`);
}

/** Invokes plugins by name: in-process when registered, else by exec from CNI_PATH. */
export class Invoker {
  constructor(
    private readonly registry: ReadonlyMap<string, PluginTable> = new Map(),
    private readonly runner: Runner = realRunner,
  ) {}

  /** Throws what `run` would when `type` cannot be found (checked before an ADD changes anything). */
  assertFound(type: string, env: Readonly<Record<string, string | undefined>>, field = 'type'): void {
    if (!this.registry.has(type)) findInPath(type, (env.CNI_PATH ?? '').split(':').filter(Boolean), field);
  }

  /** Runs `type` for `command`; resolves to the parsed stdout (undefined when empty). */
  async run(type: string, command: Command, conf: Buffer, env: Readonly<Record<string, string | undefined>>, field = 'type'): Promise<unknown> {
    const cniEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(env)) if (v !== undefined) cniEnv[k] = v;
    cniEnv.CNI_COMMAND = command;
    const local = this.registry.get(type);
    let stdout: string;
    let code: number;
    if (local) {
      let out = '';
      code = await dispatch(local, { env: cniEnv, stdin: conf, stdout: (s) => (out += s), stderr: (s) => process.stderr.write(s) });
      stdout = out;
    } else {
      const file = findInPath(type, (cniEnv.CNI_PATH ?? '').split(':').filter(Boolean), field);
      const fullEnv = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...cniEnv };
      const r = await this.runner.run(file, [], { env: fullEnv, input: conf });
      if (r.startError) throw new CniError(CniCode.Generic, `${field}: cannot run ${file}: ${r.startError}`);
      if (r.stderr.length) process.stderr.write(r.stderr);
      stdout = r.stdout;
      code = r.code;
    }
    let parsed: unknown;
    if (stdout.trim() !== '') {
      try {
        parsed = JSON.parse(stdout);
      } catch {
        throw new CniError(CniCode.DecodingFailure, `plugin ${type} ${command}: stdout is not JSON: ${stdout.slice(0, 200)}`);
      }
    }
    if (code !== 0) throw CniError.fromJson(parsed, `plugin ${type} ${command} failed with exit code ${code}`);
    return parsed;
  }
}
