// `shoal scale --replicas=N KIND/NAME... | KIND NAME...`: sets spec.replicas through the /scale
// subresource (so it works for any kind that has one); `--current-replicas` makes it conditional.

import type { Parsed } from '../args.js';
import type { Context } from '../context.js';
import { CliError, formatError } from '../errors.js';
import { kindLabel, resolveResourceArgs } from '../resources.js';
import type { Command } from './command.js';

export const scaleCommand: Command = {
  name: 'scale',
  summary: 'Set a new size for a Deployment, ReplicaSet or StatefulSet',
  usage: 'shoal scale --replicas=N [--current-replicas=M] KIND/NAME... | KIND NAME...',
  flags: [
    { name: 'replicas', type: 'int', help: 'the new number of replicas (required)' },
    { name: 'current-replicas', type: 'int', help: 'only scale when the current size is this' },
  ],
  run: async (ctx: Context, a: Parsed) => {
    const replicas = a.flags.replicas as number | undefined;
    if (replicas === undefined) throw new CliError('required flag(s) "replicas" not set', 64);
    if (replicas < 0) throw new CliError('The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0', 64);
    const targets = await resolveResourceArgs(ctx.client, a.positionals);
    let failed = 0;
    for (const t of targets) {
      if (!t.names.length) throw new CliError('resource(s) were provided, but no name was specified', 64);
      if (!t.resource.subresources.includes('scale')) {
        ctx.io.err(`error: no scaler has been implemented for ${JSON.stringify(kindLabel(t.resource))}\n`);
        failed++;
        continue;
      }
      for (const name of t.names) {
        try {
          const ns = t.resource.namespaced ? ctx.namespace : '';
          let rv: string | undefined;
          const want = a.flags['current-replicas'] as number | undefined;
          if (want !== undefined) {
            const cur = await ctx.client.getScale(t.resource, name, { namespace: ns });
            if ((cur.spec?.replicas ?? 0) !== want) throw new CliError(`Expected replicas to be ${want}, was ${cur.spec?.replicas ?? 0}`);
            rv = cur.metadata.resourceVersion;
          }
          await ctx.client.scale(t.resource, name, replicas, { namespace: ns, resourceVersion: rv });
          ctx.io.out(`${kindLabel(t.resource)}/${name} scaled\n`);
        } catch (e) {
          ctx.io.err(`${formatError(e)}\n`);
          failed++;
        }
      }
    }
    return failed ? 1 : 0;
  },
};
