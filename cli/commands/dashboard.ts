// `shoal dashboard` (like `istioctl dashboard kiali`): prints the URL of the cluster's mesh dashboard
// (dashboard/, run by `shoal up` on 127.0.0.1) once it answers, and opens it with xdg-open when the
// machine has one. The port comes from --url, $SHOAL_DASHBOARD_URL, or the cluster's run/ports.json.

import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { request } from 'undici';
import type { Parsed } from '../args.js';
import { type Context, homeOf } from '../context.js';
import { CliError } from '../errors.js';
import type { Command } from './command.js';
import { DASHBOARD_PORT } from '../../dashboard/flags.js';

/** The dashboard's URL for this cluster (ends with `/`). */
export function dashboardUrl(ctx: Context, a: Parsed): string {
  const given = (a.flags.url as string | undefined) ?? ctx.io.env.SHOAL_DASHBOARD_URL;
  if (given) return given.replace(/\/*$/, '/');
  const pf = join(homeOf(ctx.global, ctx.io.env), 'run', 'ports.json');
  const port = existsSync(pf) ? (JSON.parse(readFileSync(pf, 'utf8')) as Record<string, number>).dashboard ?? DASHBOARD_PORT : DASHBOARD_PORT;
  if (!port) throw new CliError('the dashboard is not running in this cluster (shoal up --no-mesh)');
  return `http://127.0.0.1:${port}/`;
}

function onPath(cmd: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return join(dir, cmd);
    } catch {
      /* not here */
    }
  }
  return undefined;
}

export const dashboardCommand: Command = {
  name: 'dashboard',
  summary: "Print (and open) the URL of the mesh's dashboard: the live service graph, routes, policies, certificates",
  usage: 'shoal dashboard [--url URL] [--no-open]',
  flags: [
    { name: 'url', type: 'string', help: "the dashboard's URL (default: the cluster's, from its run/ports.json, or :20001)" },
    { name: 'no-open', type: 'bool', help: 'only print the URL, do not start a browser' },
  ],
  async run(ctx: Context, a: Parsed) {
    const url = dashboardUrl(ctx, a);
    try {
      const r = await request(new URL('healthz', url), { headersTimeout: 3000, bodyTimeout: 3000, signal: AbortSignal.timeout(3000) });
      await r.body.dump();
      if (r.statusCode !== 200) throw new Error(`HTTP ${r.statusCode}`);
    } catch (e) {
      throw new CliError(`the dashboard at ${url} does not answer (${(e as Error).message}); is the cluster up? (shoal up)`);
    }
    ctx.io.out(`Dashboard: ${url}\n`);
    const opener = a.flags['no-open'] === true ? undefined : onPath('xdg-open', ctx.io.env);
    if (opener && (ctx.io.env.DISPLAY || ctx.io.env.WAYLAND_DISPLAY)) {
      const child = spawn(opener, [url], { detached: true, stdio: 'ignore' });
      child.on('error', () => undefined);
      child.unref();
      ctx.io.out('Opening it in your browser.\n');
    }
    return 0;
  },
};
