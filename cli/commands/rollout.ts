// `shoal rollout status|history|undo|pause|resume|restart deployment/NAME` (kubectl rollout's
// subcommands), on the functions of control-plane/controllers/deployment/rollout.ts.

import type { Parsed } from '../args.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import type { Command } from './command.js';
import {
  RolloutError, formatHistory, rolloutHistory, rolloutPause, rolloutRestart, rolloutResume, rolloutStatus, rolloutUndo,
} from '../../control-plane/controllers/deployment/rollout.js';

const SUBCOMMANDS = ['status', 'history', 'undo', 'pause', 'resume', 'restart'];

/** `deployment/web`, `deploy/web`, `deployments.apps/web`, or `deployment web` → the name. */
function deploymentName(args: string[]): string {
  const [a, b] = args;
  if (!a) throw new CliError('required resource not specified: shoal rollout SUBCOMMAND deployment/NAME', 64);
  const kind = a.includes('/') ? a.slice(0, a.indexOf('/')) : a;
  const name = a.includes('/') ? a.slice(a.indexOf('/') + 1) : b;
  if (!['deployment', 'deployments', 'deploy', 'deployment.apps', 'deployments.apps'].includes(kind))
    throw new CliError(`no rollout support for ${JSON.stringify(kind)}: only deployments are supported`);
  if (!name) throw new CliError('a deployment name is required: shoal rollout SUBCOMMAND deployment/NAME', 64);
  return name;
}

export const rolloutCommand: Command = {
  name: 'rollout',
  summary: 'Manage the rollout of a Deployment: status, history, undo, pause, resume, restart',
  usage: 'shoal rollout (status|history|undo|pause|resume|restart) deployment/NAME [-n NS] [--to-revision N] [--timeout 5m] [--watch=false]',
  flags: [
    { name: 'to-revision', type: 'int', help: 'undo: the revision to go back to (default: the previous one)' },
    { name: 'revision', type: 'int', help: 'history: show only this revision' },
    { name: 'timeout', type: 'duration', help: 'status: give up after this long' },
    { name: 'watch', short: 'w', type: 'bool', help: 'status: wait for the rollout to finish (default true)' },
  ],
  async run(ctx: Context, a: Parsed) {
    const [sub, ...rest] = a.positionals;
    if (!sub || !SUBCOMMANDS.includes(sub)) throw new CliError(`unknown rollout subcommand ${JSON.stringify(sub ?? '')}: one of ${SUBCOMMANDS.join(', ')}`, 64);
    const name = deploymentName(rest);
    const ns = ctx.namespace;
    const c = ctx.client;
    try {
      switch (sub) {
        case 'status': {
          await rolloutStatus(c, ns, name, {
            watch: a.flags.watch !== false,
            ...(typeof a.flags.timeout === 'number' ? { timeoutMs: a.flags.timeout } : {}),
            onMessage: (line) => ctx.io.out(`${line}\n`),
          });
          return 0;
        }
        case 'history': {
          const entries = await rolloutHistory(c, ns, name);
          const only = a.flags.revision as number | undefined;
          ctx.io.out(formatHistory(name, only ? entries.filter((e) => e.revision === only) : entries));
          return 0;
        }
        case 'undo':
          ctx.io.out(`${await rolloutUndo(c, ns, name, (a.flags['to-revision'] as number | undefined) ?? 0)}\n`);
          return 0;
        case 'pause':
          ctx.io.out(`${await rolloutPause(c, ns, name)}\n`);
          return 0;
        case 'resume':
          ctx.io.out(`${await rolloutResume(c, ns, name)}\n`);
          return 0;
        default:
          ctx.io.out(`${await rolloutRestart(c, ns, name)}\n`);
          return 0;
      }
    } catch (e) {
      if (e instanceof RolloutError) throw new CliError(e.message);
      throw e;
    }
  },
};
