// `shoal label` and `shoal annotate`: `KIND NAME|KIND/NAME|-l SEL|--all k=v k2- [--overwrite]`. Changing a
// key that already has a different value needs --overwrite, as kubectl insists; the change is sent as one
// merge patch per object (`metadata.labels`), so concurrent writers of other fields are untouched.

import type { KubeObject } from '../../api/meta.js';
import type { Parsed } from '../args.js';
import type { Context } from '../context.js';
import { CliError, formatError } from '../errors.js';
import { kindLabel, resolveResourceArgs } from '../resources.js';
import { allNamespacesFlag, type Command, dryRunFlag, isServerDryRun, selectorFlag } from './command.js';

/** Parsed `k=v` and `k-` arguments. */
export interface MetaChanges {
  set: Record<string, string>;
  remove: string[];
}

/** Split positionals into resource arguments and `k=v` / `k-` changes. */
export function parseChanges(args: string[]): { resources: string[]; changes: MetaChanges } {
  const changes: MetaChanges = { set: {}, remove: [] };
  const resources: string[] = [];
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq > 0) changes.set[a.slice(0, eq)] = a.slice(eq + 1);
    else if (a.endsWith('-') && a.length > 1) changes.remove.push(a.slice(0, -1));
    else resources.push(a);
  }
  for (const k of changes.remove) if (k in changes.set) throw new CliError(`can not both modify and remove the following label(s) in the same command: ${k}`, 64);
  return { resources, changes };
}

/**
 * The merge patch for `field` (labels or annotations) of `obj`, or the error kubectl gives when a value
 * would change without --overwrite; null when nothing changes.
 */
export function metaPatch(obj: KubeObject, field: 'labels' | 'annotations', c: MetaChanges, overwrite: boolean): Record<string, unknown> | null {
  const cur = obj.metadata[field] ?? {};
  const patch: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(c.set)) {
    if (k in cur && cur[k] !== v && !overwrite) throw new CliError(`'${k}' already has a value (${cur[k]}), and --overwrite is false`);
    if (cur[k] !== v) patch[k] = v;
  }
  for (const k of c.remove) if (k in cur) patch[k] = null;
  if (!Object.keys(patch).length) return null;
  return { metadata: { [field]: patch } };
}

function metaCommand(name: 'label' | 'annotate', field: 'labels' | 'annotations', verb: string): Command {
  return {
    name,
    summary: `Update the ${field} of resources`,
    usage: `shoal ${name} KIND NAME|KIND/NAME|KIND -l SEL|KIND --all KEY=VAL... KEY-... [--overwrite]`,
    flags: [
      selectorFlag, allNamespacesFlag, dryRunFlag,
      { name: 'all', type: 'bool', help: 'every object of the kind in the namespace' },
      { name: 'overwrite', type: 'bool', help: `allow changing ${field} that already have a value` },
    ],
    async run(ctx: Context, a: Parsed) {
      const { resources, changes } = parseChanges(a.positionals);
      if (!Object.keys(changes.set).length && !changes.remove.length) throw new CliError(`at least one ${field === 'labels' ? 'label' : 'annotation'} update is required`, 64);
      const targets = await resolveResourceArgs(ctx.client, resources);
      let failed = 0;
      for (const t of targets) {
        const ns = t.resource.namespaced ? (a.flags['all-namespaces'] ? '' : ctx.namespace) : '';
        let objs: KubeObject[];
        if (t.names.length) {
          objs = [];
          for (const n of t.names) {
            try {
              objs.push(await ctx.client.get(t.resource, n, { namespace: ns }));
            } catch (e) {
              ctx.io.err(`${formatError(e)}\n`);
              failed++;
            }
          }
        } else if (a.flags.selector || a.flags.all) {
          objs = (await ctx.client.listAll(t.resource, { namespace: ns, labelSelector: a.flags.selector as string | undefined })).items;
        } else throw new CliError('resource(s) were provided, but no name was specified', 64);
        for (const o of objs) {
          const id = `${kindLabel(t.resource)}/${o.metadata.name}`;
          try {
            const patch = metaPatch(o, field, changes, !!a.flags.overwrite);
            if (!patch) {
              ctx.io.out(`${id} not ${verb}\n`);
              continue;
            }
            await ctx.client.patch(t.resource, o.metadata.name!, patch, { type: 'merge', namespace: o.metadata.namespace ?? ns, dryRun: isServerDryRun(a.flags) });
            ctx.io.out(`${id} ${verb}\n`);
          } catch (e) {
            ctx.io.err(`${formatError(e)}\n`);
            failed++;
          }
        }
      }
      return failed ? 1 : 0;
    },
  };
}

export const labelCommand = metaCommand('label', 'labels', 'labeled');
export const annotateCommand = metaCommand('annotate', 'annotations', 'annotated');
