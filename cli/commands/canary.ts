// `shoal canary start DEPLOYMENT --image NEW …` creates a Canary (shoal.io/v1alpha1) that the canary
// controller (control-plane/controllers/canary) carries out; `shoal canary status [NAME] [--watch]`
// shows its progress: phase, weight, step, the last analysis and the message, live with --watch (a line
// each time something changes, until the canary has finished).

import type { Parsed } from '../args.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import type { Command } from './command.js';
import type { KubeObject } from '../../api/meta.js';
import { isNotFound } from '../../api/client/index.js';
import { CANARY_DEFAULTS } from '../../api/kinds/shoal/canary.js';

const canaries = { apiVersion: 'shoal.io/v1alpha1', plural: 'canaries', namespaced: true };

/** `10,25,50,100` → [10, 25, 50, 100], or a usage error naming the flag. */
export function parseSteps(s: string): number[] {
  const parts = s.split(',').map((x) => x.trim());
  if (!parts.length || parts.some((x) => !/^\d+$/.test(x))) throw new CliError(`--steps: must be comma-separated integer percentages like 10,25,50,100, got ${JSON.stringify(s)}`, 64);
  return parts.map(Number);
}

/** The Canary object `start` creates from its flags. */
export function canaryFromFlags(deployment: string, f: Parsed['flags'], namespace: string): KubeObject {
  const image = f.image as string | undefined;
  if (!image) throw new CliError('required flag(s) "image" not set', 64);
  const spec: Record<string, unknown> = { targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment }, image };
  if (f.steps !== undefined) spec.steps = parseSteps(String(f.steps));
  if (f.interval !== undefined) spec.interval = f.interval;
  if (f['max-error-rate'] !== undefined) spec.maxErrorRate = f['max-error-rate'];
  if (f['max-p99'] !== undefined) spec.maxP99 = f['max-p99'];
  if (f['min-requests'] !== undefined) spec.minRequests = f['min-requests'];
  if (f.container !== undefined) spec.container = f.container;
  if (f.service !== undefined) spec.service = f.service;
  return { apiVersion: 'shoal.io/v1alpha1', kind: 'Canary', metadata: { name: (f.name as string | undefined) ?? deployment, namespace }, spec };
}

const pct = (x: unknown) => (typeof x === 'number' ? `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%` : '–');

/** One line about a canary: `web  Progressing  weight 20%  step 1/3  last: 40 req, 0.0% errors, p99 12ms  <message>`. */
export function statusLine(c: KubeObject): string {
  const s = c.status ?? {};
  const steps: number[] = c.spec?.steps ?? [];
  const a = s.lastAnalysis;
  const last = a ? `  last: ${a.requests} req, ${pct(a.errorRate)} errors, p99 ${a.p99Ms === undefined ? '–' : `${Math.round(a.p99Ms)}ms`}` : '';
  const step = s.stepIndex !== undefined && s.phase === 'Progressing' ? `  step ${s.stepIndex + 1}/${steps.length}` : '';
  return `${c.metadata.name}  ${s.phase ?? 'Initializing'}${s.paused ? ' (paused)' : ''}  weight ${s.canaryWeight ?? 0}%${step}${last}  ${s.message ?? ''}`.trimEnd();
}

const done = (c: KubeObject) => c.status?.phase === 'Succeeded' || c.status?.phase === 'Failed';

async function start(ctx: Context, a: Parsed): Promise<number> {
  const dep = a.positionals[1];
  if (!dep) throw new CliError('a Deployment name is required: shoal canary start DEPLOYMENT --image NEW', 64);
  const obj = canaryFromFlags(dep, a.flags, ctx.namespace);
  const name = obj.metadata.name!;
  try {
    const old = await ctx.client.get(canaries, name, { namespace: ctx.namespace });
    if (!done(old)) throw new CliError(`canary ${name} is still ${old.status?.phase ?? 'Initializing'}; wait for it or delete it (shoal delete canary ${name})`);
    await ctx.client.delete(canaries, name, { namespace: ctx.namespace });
    // a canary that just finished may still hold its finalizer for a moment
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 200));
      await ctx.client.get(canaries, name, { namespace: ctx.namespace });
    }
    throw new CliError(`canary ${name} is still being deleted; try again`);
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  await ctx.client.create(canaries, obj, { namespace: ctx.namespace });
  const s = obj.spec as Record<string, any>;
  ctx.io.out(`canary.shoal.io/${name} created: ${dep} → ${s.image}, steps ${(s.steps ?? CANARY_DEFAULTS.steps).join(',')}% every ${s.interval ?? CANARY_DEFAULTS.interval}, rolls back above ${s.maxErrorRate ?? CANARY_DEFAULTS.maxErrorRate} errors or p99 ${s.maxP99 ?? CANARY_DEFAULTS.maxP99}\n`);
  ctx.io.out(`Follow it with: shoal canary status ${name} --watch${ctx.namespace !== 'default' ? ` -n ${ctx.namespace}` : ''}\n`);
  return 0;
}

async function status(ctx: Context, a: Parsed): Promise<number> {
  const name = a.positionals[1];
  const read = async (): Promise<KubeObject[]> => (name ? [await ctx.client.get(canaries, name, { namespace: ctx.namespace })] : (await ctx.client.list(canaries, { namespace: ctx.namespace })).items);
  let list = await read();
  if (!list.length) {
    ctx.io.out(`No canaries in ${ctx.namespace}.\n`);
    return 0;
  }
  const shown = new Map<string, string>();
  const show = (l: KubeObject[]) => {
    for (const c of l) {
      const line = statusLine(c);
      if (shown.get(c.metadata.name!) === line) continue;
      shown.set(c.metadata.name!, line);
      ctx.io.out(`${a.flags.watch ? `${new Date().toISOString().slice(11, 19)}  ` : ''}${line}\n`);
    }
  };
  show(list);
  if (!a.flags.watch) {
    if (name) for (const cond of list[0]!.status?.conditions ?? []) ctx.io.out(`  ${cond.type}=${cond.status} (${cond.reason ?? ''}) ${cond.lastTransitionTime ?? ''}\n`);
    return 0;
  }
  // --timeout is in seconds (the CLI's duration flags)
  const until = Date.now() + ((a.flags.timeout as number | undefined) ?? 3600) * 1000;
  while (!list.every(done) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 1000));
    list = await read();
    show(list);
  }
  if (!list.every(done)) {
    ctx.io.err(`still running after --timeout ${a.flags.timeout ?? 3600}s\n`);
    return 1;
  }
  // the exit code says how it ended: 0 promoted, 1 rolled back (or failed)
  return list.every((c) => c.status?.phase === 'Succeeded') ? 0 : 1;
}

export const canaryCommand: Command = {
  name: 'canary',
  summary: 'Release a new image progressively: start a Canary (weights shift step by step, analysis promotes or rolls back), show its status',
  usage: 'shoal canary start DEPLOYMENT --image NEW [--steps 10,25,50,100] [--interval 30s] [--max-error-rate 1%] [--max-p99 500ms] [-n NS]\n  shoal canary status [NAME] [--watch]',
  flags: [
    { name: 'image', type: 'string', help: 'start: the new image (required)' },
    { name: 'steps', type: 'string', help: 'start: canary weights in percent, ending at 100 (default 10,25,50,100)' },
    { name: 'interval', type: 'string', help: 'start: time at each step before the analysis (default 30s)' },
    { name: 'max-error-rate', type: 'string', help: "start: highest share of the canary's requests that may fail (default 1%)" },
    { name: 'max-p99', type: 'string', help: "start: highest p99 latency of the canary's requests (default 500ms)" },
    { name: 'min-requests', type: 'int', help: 'start: requests a step needs before it is judged (default 10)' },
    { name: 'container', type: 'string', help: 'start: the container to change (default: the first)' },
    { name: 'service', type: 'string', help: "start: the Service in front of the Deployment (default: the one selecting its pods)" },
    { name: 'name', type: 'string', help: 'start: the Canary\'s name (default: the Deployment\'s)' },
    { name: 'watch', short: 'w', type: 'bool', help: 'status: print a line at every change until the canary has finished' },
    { name: 'timeout', type: 'duration', help: 'status --watch: stop watching after this long (default 1h)' },
  ],
  async run(ctx: Context, a: Parsed) {
    const sub = a.positionals[0];
    if (sub === 'start') return start(ctx, a);
    if (sub === 'status') return status(ctx, a);
    throw new CliError(`unknown subcommand ${JSON.stringify(sub ?? '')} for "shoal canary": one of start, status`, 64);
  },
};
