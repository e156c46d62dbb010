// `shoal exec POD [-c C] [-i] -- CMD ARGS…`: run a command in a container through the API server's
// pods/exec, streamed over WebSocket as `kubectl exec` does (api/client/exec.ts): the command's stdout and
// stderr are printed as they come, for however long it runs, and its exit code is ours. Ctrl-C ends the
// stream, and the node agent kills the command.

import { StringDecoder } from 'node:string_decoder';
import { execStream } from '../../api/client/exec.js';
import type { Parsed } from '../args.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import type { Command } from './command.js';

export const execCommand: Command = {
  name: 'exec',
  summary: 'Run a command in a container, streaming its output (like kubectl exec, without a TTY)',
  usage: 'shoal exec POD [-c CONTAINER] [-n NS] [-i] -- COMMAND [ARGS...]',
  flags: [
    { name: 'container', short: 'c', type: 'string', help: 'the container (default: the only one)' },
    { name: 'stdin', short: 'i', type: 'bool', help: 'pass stdin to the command (read to its end, then closed)' },
  ],
  async run(ctx: Context, a: Parsed) {
    // everything after `--` arrives as positionals after the pod name
    const [target, ...command] = a.positionals;
    if (!target || !command.length) throw new CliError('usage: shoal exec POD [-c CONTAINER] -- COMMAND [ARGS...]', 64);
    const pod = target.replace(/^pods?\//, '');
    const stdin = a.flags.stdin ? await ctx.io.readStdin() : undefined;
    // output is text for the Io seam: decode per channel so a character split across frames stays whole
    const out = new StringDecoder('utf8');
    const err = new StringDecoder('utf8');
    const abort = new AbortController();
    void ctx.io.interrupted.then(() => abort.abort());
    const r = await execStream(ctx.client.config, {
      namespace: ctx.namespace, pod, command, stdin,
      ...(a.flags.container ? { container: String(a.flags.container) } : {}),
      stdout: (b) => ctx.io.out(out.write(b)),
      stderr: (b) => ctx.io.err(err.write(b)),
      signal: abort.signal,
    });
    ctx.io.out(out.end());
    ctx.io.err(err.end());
    return r.exitCode;
  },
};
