// `shoal exec POD [-c C] -- CMD ARGS…`: run a command in a container through the API server's pods/exec
// (non-interactive: the command's stdout and stderr are printed when it ends, and its exit code is ours).

import type { Parsed } from '../args.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import type { Command } from './command.js';

export const execCommand: Command = {
  name: 'exec',
  summary: 'Run a command in a container (non-interactive)',
  usage: 'shoal exec POD [-c CONTAINER] [-n NS] -- COMMAND [ARGS...]',
  flags: [{ name: 'container', short: 'c', type: 'string', help: 'the container (default: the only one)' }],
  async run(ctx: Context, a: Parsed) {
    // everything after `--` arrives as positionals after the pod name
    const [target, ...command] = a.positionals;
    if (!target || !command.length) throw new CliError('usage: shoal exec POD [-c CONTAINER] -- COMMAND [ARGS...]', 64);
    const pod = target.replace(/^pods?\//, '');
    const q: Record<string, unknown> = { command };
    if (a.flags.container) q.container = a.flags.container;
    const r = await ctx.client.request<{ exitCode: number; stdout: string; stderr: string }>('POST', `/api/v1/namespaces/${encodeURIComponent(ctx.namespace)}/pods/${encodeURIComponent(pod)}/exec`, { query: q, body: '', contentType: 'application/octet-stream' });
    ctx.io.out(r.stdout);
    if (r.stderr) ctx.io.err(r.stderr);
    return r.exitCode;
  },
};
