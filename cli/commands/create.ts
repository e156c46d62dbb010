// `shoal create namespace NAME` (alias `ns`), and `shoal create -f FILE` (create only, AlreadyExists is an
// error as with kubectl create).

import type { Parsed } from '../args.js';
import type { Context } from '../context.js';
import { resourceForDoc } from '../resources.js';
import { CliError, formatError } from '../errors.js';
import { loadManifests } from '../manifest/load.js';
import { resourceName } from '../printers/objects.js';
import { targetNamespace } from './apply.js';
import { type Command, dryRunFlag, filenameFlag, isServerDryRun, recursiveFlag } from './command.js';

export const createCommand: Command = {
  name: 'create',
  summary: 'Create a namespace, or resources from files',
  usage: 'shoal create namespace NAME [--dry-run=server] | shoal create -f FILE|DIR|- [-R]',
  flags: [filenameFlag, recursiveFlag, dryRunFlag],
  async run(ctx: Context, a: Parsed) {
    const dryRun = isServerDryRun(a.flags);
    const suffix = dryRun ? ' (server dry run)' : '';
    const files = (a.flags.filename as string[] | undefined) ?? [];
    if (files.length) {
      const { docs, errors } = await loadManifests(files, { recursive: !!a.flags.recursive, readStdin: () => ctx.io.readStdin() });
      let failed = errors.length;
      for (const e of errors) ctx.io.err(`error: ${e.message}\n`);
      for (const d of docs) {
        try {
          const r = await resourceForDoc(ctx.client, d);
          const ns = targetNamespace(ctx, r, d.object);
          await ctx.client.create(r, { ...d.object, metadata: { ...d.object.metadata, ...(ns ? { namespace: ns } : {}) } }, { namespace: ns, dryRun });
          ctx.io.out(`${resourceName(d.object)} created${suffix}\n`);
        } catch (e) {
          ctx.io.err(`${formatError(e, `error when creating "${d.source}"`)}\n`);
          failed++;
        }
      }
      return failed ? 1 : 0;
    }
    const [what, name, ...extra] = a.positionals;
    if (what !== 'namespace' && what !== 'ns') throw new CliError(what ? `unknown create subcommand ${JSON.stringify(what)}: supported: namespace` : 'must specify one of -f or a subcommand (namespace)', 64);
    if (!name || extra.length) throw new CliError('exactly one NAME is required, got ' + (name ? extra.length + 1 : 0), 64);
    try {
      await ctx.client.create({ apiVersion: 'v1', plural: 'namespaces', namespaced: false }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, { dryRun });
    } catch (e) {
      ctx.io.err(`${formatError(e)}\n`);
      return 1;
    }
    ctx.io.out(`namespace/${name} created${suffix}\n`);
    return 0;
  },
};
