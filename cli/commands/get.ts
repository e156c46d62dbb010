// `shoal get KIND [NAME...] [-n NS | -A] [-l SEL] [--field-selector SEL] [-o wide|yaml|json|name] [-w]`:
// the server's Table printed as kubectl prints it; objects as YAML/JSON/names; `-w` streams rows from a
// watch after the initial list; several kinds (`pods,svc`, `all`) print one table each, names prefixed.

import type { KubeObject } from '../../api/meta.js';
import type { Table } from '../../api/client/client.js';
import { KubeApiError } from '../../api/client/errors.js';
import type { Parsed } from '../args.js';
import type { Context } from '../context.js';
import { formatError } from '../errors.js';
import { formatObjects, type ObjectFormat } from '../printers/objects.js';
import { alignLines, columnWidths, formatTable, tableCells, type TableOptions } from '../printers/table.js';
import { kindLabel, resolveResourceArgs, type ResourceArgs } from '../resources.js';
import { allNamespacesFlag, type Command, outputFlag, selectorFlag } from './command.js';

export const getCommand: Command = {
  name: 'get',
  summary: 'Display one or many resources',
  usage: 'shoal get KIND[,KIND...] [NAME...] | KIND/NAME... [-n NS | -A] [-l SEL] [--field-selector SEL] [-o wide|yaml|json|name] [-w]',
  flags: [
    outputFlag, selectorFlag, allNamespacesFlag,
    { name: 'field-selector', type: 'string', help: 'field selector, e.g. metadata.name=web,status.phase=Running' },
    { name: 'watch', short: 'w', type: 'bool', help: 'after listing, watch for changes' },
    { name: 'watch-only', type: 'bool', help: 'watch for changes without listing first' },
    { name: 'show-labels', type: 'bool', help: 'add a LABELS column' },
    { name: 'no-headers', type: 'bool', help: 'omit the header line' },
  ],
  run: runGet,
};

async function runGet(ctx: Context, a: Parsed): Promise<number> {
  const f = a.flags;
  const output = f.output as string | undefined;
  const all = !!f['all-namespaces'];
  const targets = await resolveResourceArgs(ctx.client, a.positionals);
  const q = { labelSelector: f.selector as string | undefined, fieldSelector: f['field-selector'] as string | undefined };
  if (f.watch || f['watch-only']) {
    if (targets.length !== 1) return fail(ctx, 'you may only specify a single resource type to watch', 64);
    return watchTable(ctx, targets[0]!, all, q, { wide: output === 'wide', withNamespace: all, showLabels: !!f['show-labels'], noHeaders: !!f['no-headers'] }, !!f['watch-only']);
  }
  let code = 0;
  if (output === 'yaml' || output === 'json' || output === 'name') {
    const objs: KubeObject[] = [];
    for (const t of targets) {
      const ns = all ? '' : ctx.namespace;
      if (t.names.length) {
        for (const name of t.names) {
          try {
            objs.push(await ctx.client.get(t.resource, name, { namespace: ns }));
          } catch (e) {
            ctx.io.err(`${formatError(e)}\n`);
            code = 1;
          }
        }
      } else {
        const list = await ctx.client.listAll(t.resource, { namespace: ns, ...q });
        for (const o of list.items) {
          o.apiVersion ??= list.apiVersion;
          o.kind ??= list.kind.replace(/List$/, '');
        }
        objs.push(...list.items);
      }
    }
    const single = targets.length === 1 && targets[0]!.names.length === 1;
    if (objs.length || single) ctx.io.out(formatObjects(objs, output as ObjectFormat, !single));
    if (!objs.length && !single && code === 0) noneFound(ctx, targets, all);
    return code;
  }
  const multi = targets.length > 1;
  let printed = 0;
  for (const t of targets) {
    const ns = all ? '' : ctx.namespace;
    let table: Table | undefined;
    try {
      if (t.names.length) {
        for (const name of t.names) {
          try {
            const one = await ctx.client.table(t.resource, { namespace: ns, name });
            if (!table) table = one;
            else table.rows.push(...one.rows);
          } catch (e) {
            ctx.io.err(`${formatError(e)}\n`);
            code = 1;
          }
        }
      } else table = await ctx.client.table(t.resource, { namespace: ns, ...q });
    } catch (e) {
      // with `get all` a kind the server cannot list is skipped, as kubectl skips it
      if (multi && e instanceof KubeApiError && (e.code === 404 || e.code === 405)) continue;
      throw e;
    }
    if (!table || !table.rows.length) continue;
    if (printed++) ctx.io.out('\n');
    ctx.io.out(formatTable(table, { wide: output === 'wide', withNamespace: all && t.resource.namespaced, showLabels: !!f['show-labels'], noHeaders: !!f['no-headers'], ...(multi ? { kindPrefix: kindLabel(t.resource) } : {}) }));
  }
  if (!printed && code === 0) noneFound(ctx, targets, all);
  return code;
}

function noneFound(ctx: Context, targets: ResourceArgs[], all: boolean) {
  const namespaced = targets.some((t) => t.resource.namespaced);
  ctx.io.err(all || !namespaced ? 'No resources found\n' : `No resources found in ${ctx.namespace} namespace.\n`);
}

function fail(ctx: Context, msg: string, code: number): number {
  ctx.io.err(`error: ${msg}\n`);
  return code;
}

/** List, print, then print a row for every watch event until the timeout or an interrupt. */
async function watchTable(ctx: Context, t: ResourceArgs, all: boolean, q: { labelSelector?: string; fieldSelector?: string }, o: TableOptions, watchOnly: boolean): Promise<number> {
  const ns = all ? '' : ctx.namespace;
  const name = t.names[0];
  const fieldSelector = name ? [q.fieldSelector, `metadata.name=${name}`].filter(Boolean).join(',') : q.fieldSelector;
  const initial = await ctx.client.table(t.resource, { namespace: ns, labelSelector: q.labelSelector, fieldSelector });
  const { header, rows } = tableCells(initial, o);
  let widths = columnWidths([header, ...rows]);
  let headerShown = o.noHeaders ?? false;
  const print = (lines: string[][]) => {
    if (!headerShown) {
      lines = [header, ...lines];
      headerShown = true;
    }
    widths = columnWidths(lines, widths);
    ctx.io.out(alignLines(lines, widths));
  };
  if (!watchOnly && rows.length) print(rows);
  const abort = new AbortController();
  void ctx.io.interrupted.then(() => abort.abort());
  const timeout = ctx.global.requestTimeout;
  const timer = timeout ? setTimeout(() => abort.abort(), timeout * 1000) : undefined;
  try {
    for await (const ev of ctx.client.watch(t.resource, {
      namespace: ns, labelSelector: q.labelSelector, fieldSelector, resourceVersion: initial.metadata.resourceVersion,
      signal: abort.signal, asTable: true, ...(timeout ? { timeoutSeconds: Math.ceil(timeout) } : {}),
    })) {
      if (ev.type === 'ERROR') {
        ctx.io.err(`${formatError(new KubeApiError(ev.object as any))}\n`);
        return 1;
      }
      if (ev.type === 'BOOKMARK') continue;
      const tbl = ev.object as unknown as Table;
      tbl.columnDefinitions ??= initial.columnDefinitions;
      print(tableCells(tbl, o).rows);
    }
  } finally {
    if (timer) clearTimeout(timer);
  }
  return 0;
}
