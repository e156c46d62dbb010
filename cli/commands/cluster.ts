// `shoal up`, `shoal down`, `shoal status`: the local cluster's lifecycle (logic in ../up/up.ts).

import type { Parsed } from '../args.js';
import type { Context } from '../context.js';
import type { Command } from './command.js';
import { runDown, runStatus, runUp } from '../up/up.js';

function withHome(ctx: Context, raw: string[]): string[] {
  return ctx.global.home && !raw.some((x) => x === '--home' || x.startsWith('--home=')) ? ['--home', ctx.global.home, ...raw] : raw;
}

export const upCommand: Command = {
  name: 'up',
  summary: 'Start a local cluster in the foreground and apply manifests (flags: --home, --store, --port, --apply DIR)',
  usage: 'shoal up [--home DIR] [--store PATH|etcd://HOST:PORT] [--port 6443] [--apply DIR]...',
  flags: [],
  rawArgs: true,
  run: (ctx: Context, _a: Parsed, raw: string[]) => runUp(withHome(ctx, raw)),
};

export const downCommand: Command = {
  name: 'down',
  summary: 'Stop the cluster started by shoal up from this state dir',
  usage: 'shoal down [--home DIR]',
  flags: [],
  rawArgs: true,
  run: (ctx: Context, _a: Parsed, raw: string[]) => runDown(withHome(ctx, raw)),
};

export const statusCommand: Command = {
  name: 'status',
  summary: "Show each component's health",
  usage: 'shoal status [--home DIR] [--port 6443]',
  flags: [],
  rawArgs: true,
  run: (ctx: Context, _a: Parsed, raw: string[]) => runStatus(withHome(ctx, raw)),
};
