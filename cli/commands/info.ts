// The commands that describe the cluster rather than objects: `api-resources` (from discovery),
// `version` (client and server), `kubeconfig` (the admin kubeconfig of the state dir).

import type { Parsed } from '../args.js';
import type { Context } from '../context.js';
import { homeOf } from '../context.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubeconfigYaml } from '../../control-plane/apiserver/kubeconfig.js';
import { NoPkiError } from '../../control-plane/apiserver/pki.js';
import { ownerAlive } from '../../lib/lockfile.js';
import { apiVersionOf } from '../../api/client/discovery.js';
import { CliError } from '../errors.js';
import { formatRows } from '../printers/table.js';
import { toYaml } from '../printers/objects.js';
import type { Command } from './command.js';

/** The CLI's own version (package.json's). */
export const CLIENT_VERSION = { major: '0', minor: '1', gitVersion: 'v0.1.0', platform: `${process.platform}/${process.arch}` };

export const apiResourcesCommand: Command = {
  name: 'api-resources',
  summary: 'Print the resource types the server supports',
  usage: 'shoal api-resources [--namespaced=true|false] [--api-group=GROUP] [-o wide|name] [--no-headers]',
  flags: [
    { name: 'namespaced', type: 'string', help: 'only namespaced (true) or cluster-scoped (false) resources', values: ['true', 'false'] },
    { name: 'api-group', type: 'string', help: 'only this API group ("" for core)' },
    { name: 'output', short: 'o', type: 'string', help: 'wide (adds VERBS, CATEGORIES) or name', values: ['wide', 'name'] },
    { name: 'no-headers', type: 'bool', help: 'omit the header line' },
  ],
  async run(ctx: Context, a: Parsed) {
    let rs = (await ctx.client.discovery.resources()).filter((r) => r.preferred);
    if (a.flags.namespaced !== undefined) rs = rs.filter((r) => String(r.namespaced) === a.flags.namespaced);
    if (a.flags['api-group'] !== undefined) rs = rs.filter((r) => r.group === a.flags['api-group']);
    rs.sort((x, y) => (x.group === y.group ? x.plural.localeCompare(y.plural) : x.group === '' ? -1 : y.group === '' ? 1 : x.group.localeCompare(y.group)));
    if (a.flags.output === 'name') {
      ctx.io.out(rs.map((r) => `${r.group ? `${r.plural}.${r.group}` : r.plural}\n`).join(''));
      return 0;
    }
    const wide = a.flags.output === 'wide';
    const header = ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND', ...(wide ? ['VERBS', 'CATEGORIES'] : [])];
    const rows = rs.map((r) => [r.plural, r.shortNames.join(','), apiVersionOf(r), String(r.namespaced), r.kind, ...(wide ? [`[${r.verbs.join(' ')}]`, r.categories.join(',')] : [])]);
    ctx.io.out(formatRows(a.flags['no-headers'] ? undefined : header, rows));
    return 0;
  },
};

export const versionCommand: Command = {
  name: 'version',
  summary: 'Print the client and server versions',
  usage: 'shoal version [--client] [-o yaml|json]',
  flags: [
    { name: 'client', type: 'bool', help: 'only the client version (no server needed)' },
    { name: 'output', short: 'o', type: 'string', help: 'yaml or json', values: ['yaml', 'json'] },
  ],
  async run(ctx: Context, a: Parsed) {
    const server = a.flags.client ? undefined : await ctx.client.version();
    const doc = { clientVersion: CLIENT_VERSION, ...(server ? { serverVersion: server } : {}) };
    if (a.flags.output === 'json') ctx.io.out(`${JSON.stringify(doc, null, 2)}\n`);
    else if (a.flags.output === 'yaml') ctx.io.out(toYaml(doc));
    else ctx.io.out(`Client Version: ${CLIENT_VERSION.gitVersion}\n${server ? `Server Version: ${server.gitVersion ?? JSON.stringify(server)}\n` : ''}`);
    return 0;
  },
};

export const kubeconfigCommand: Command = {
  name: 'kubeconfig',
  summary: 'Print the admin kubeconfig of the cluster in the state dir',
  usage: 'shoal kubeconfig [--home DIR] [--server URL]   (reads DIR/pki; waits for a cluster that is starting, never creates credentials)',
  flags: [],
  async run(ctx: Context, a: Parsed) {
    if (a.positionals.length) throw new CliError(`unexpected arguments: ${a.positionals.join(' ')}`, 64);
    const home = homeOf(ctx.global, ctx.io.env);
    try {
      ctx.io.out(kubeconfigYaml({ home, server: ctx.global.server || ctx.io.env.SHOAL_SERVER || 'https://127.0.0.1:6443', starting: () => upRunning(home) }));
    } catch (e) {
      if (e instanceof NoPkiError) throw new CliError(e.message);
      throw e;
    }
    return 0;
  },
};

/** Whether `shoal up` runs from `home` (its pid file names a live process): its credentials are coming. */
function upRunning(home: string): boolean {
  const f = join(home, 'run', 'up.pid');
  if (!existsSync(f)) return false;
  try {
    return ownerAlive(Number(readFileSync(f, 'utf8')), '');
  } catch {
    return false;
  }
}

export const apiserverCommand: Command = {
  name: 'apiserver',
  summary: 'Run the API server in the foreground (flags: --home, --store, --bind-address, --secure-port, --advertise-address, --log-level)',
  usage: 'shoal apiserver [--home DIR] [--store PATH|etcd://HOST:PORT] [--bind-address IP] [--secure-port N] [--advertise-address IP] [--log-level LEVEL]',
  flags: [],
  rawArgs: true,
  async run(ctx: Context, _a: Parsed, raw: string[]) {
    const { runApiServer } = await import('../../control-plane/apiserver/run.js');
    const argv = ctx.global.home && !raw.some((x) => x === '--home' || x.startsWith('--home=')) ? ['--home', ctx.global.home, ...raw] : raw;
    return runApiServer(argv);
  },
};

export const cniCommand: Command = {
  name: 'cni',
  summary: 'CNI plugin tools (see cni/README.md)',
  usage: 'shoal cni ...',
  flags: [],
  rawArgs: true,
  async run(ctx: Context, _a: Parsed, raw: string[]) {
    // cni/cli.js is written separately; a variable specifier keeps this file compiling without it
    const spec = '../../cni/cli.js';
    let mod: { runCniCommand?: (argv: string[]) => Promise<number> };
    try {
      mod = await import(spec);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') throw new CliError('the cni commands are not part of this build');
      throw e;
    }
    if (!mod.runCniCommand) throw new CliError('cni/cli.js does not export runCniCommand');
    void ctx;
    return mod.runCniCommand(raw);
  },
};
