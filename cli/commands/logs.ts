// `shoal logs POD [-c C] [-f] [--previous] [--tail N] [--timestamps]`: a container's log through the API
// server's pods/log subresource (which reads it from the pod's node agent), streamed as it arrives.

import { Pool } from 'undici';
import type { Parsed } from '../args.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { errorFromResponse } from '../../api/client/errors.js';
import type { Command } from './command.js';

export const logsCommand: Command = {
  name: 'logs',
  summary: "Print a container's log (like kubectl logs)",
  usage: 'shoal logs POD [-c CONTAINER] [-n NS] [-f] [--previous] [--tail N] [--timestamps]',
  flags: [
    { name: 'container', short: 'c', type: 'string', help: 'the container (default: the only one)' },
    { name: 'follow', short: 'f', type: 'bool', help: 'keep streaming new lines' },
    { name: 'previous', short: 'p', type: 'bool', help: 'the previous instance of a restarted container' },
    { name: 'tail', type: 'int', help: 'only the last N lines' },
    { name: 'timestamps', type: 'bool', help: 'prefix each line with its time' },
  ],
  async run(ctx: Context, a: Parsed) {
    const [target, ...rest] = a.positionals;
    if (!target || rest.length) throw new CliError('expected exactly one pod: shoal logs POD [-c CONTAINER]');
    const pod = target.startsWith('pod/') || target.startsWith('pods/') ? target.slice(target.indexOf('/') + 1) : target;
    const ns = ctx.namespace;
    const q = new URLSearchParams();
    if (a.flags.container) q.set('container', String(a.flags.container));
    if (a.flags.follow) q.set('follow', 'true');
    if (a.flags.previous) q.set('previous', 'true');
    if (a.flags.tail !== undefined) q.set('tailLines', String(a.flags.tail));
    if (a.flags.timestamps) q.set('timestamps', 'true');
    const cfg = ctx.client.config;
    const url = new URL(cfg.server);
    const pool = new Pool(url.origin, { connect: { ...(cfg.caPem ? { ca: cfg.caPem } : {}), ...(cfg.certPem ? { cert: cfg.certPem, key: cfg.keyPem } : {}), rejectUnauthorized: !cfg.insecureSkipTlsVerify } });
    try {
      const res = await pool.request({
        method: 'GET',
        path: `${url.pathname.replace(/\/+$/, '')}/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(pod)}/log?${q}`,
        headers: { ...(cfg.token ? { authorization: `Bearer ${cfg.token}` } : {}), accept: 'text/plain, application/json' },
        bodyTimeout: 0,
      });
      if (res.statusCode !== 200) {
        throw errorFromResponse(res.statusCode, await res.body.text());
      }
      for await (const chunk of res.body) ctx.io.out(chunk.toString('utf8'));
      return 0;
    } finally {
      await pool.close();
    }
  },
};
