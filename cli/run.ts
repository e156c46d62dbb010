// The `shoal` dispatcher: finds the subcommand, parses its flags together with the global ones (every bad
// flag is reported, exit 64), builds the Context and runs the command. Errors are printed in kubectl's
// words (../errors.ts); exit codes: 0 success, 1 failure, 64 usage.

import { globalFlags, parseArgs, splitCommand } from './args.js';
import { Context, type GlobalOptions, type Io } from './context.js';
import { CliError, formatError } from './errors.js';
import { ManifestError } from './manifest/load.js';
import type { Command } from './commands/command.js';
import { applyCommand } from './commands/apply.js';
import { getCommand } from './commands/get.js';
import { describeCommand } from './commands/describe.js';
import { deleteCommand } from './commands/delete.js';
import { createCommand } from './commands/create.js';
import { scaleCommand } from './commands/scale.js';
import { annotateCommand, labelCommand } from './commands/label.js';
import { editCommand } from './commands/edit.js';
import { upCommand, downCommand, statusCommand } from './commands/cluster.js';
import { logsCommand } from './commands/logs.js';
import { rolloutCommand } from './commands/rollout.js';
import { execCommand } from './commands/exec.js';
import { imageCommand } from './commands/image.js';
import { injectCommand } from './commands/inject.js';
import { proxyConfigCommand, proxyStatusCommand } from './commands/proxy-status.js';
import { explainCommand } from './commands/explain.js';
import { analyzeCommand } from './commands/analyze.js';
import { dashboardCommand } from './commands/dashboard.js';
import { topCommand } from './commands/top.js';
import { canaryCommand } from './commands/canary.js';
import { apiResourcesCommand, apiserverCommand, cniCommand, kubeconfigCommand, versionCommand } from './commands/info.js';

/** Every subcommand, in help order. */
export const commands: Command[] = [
  applyCommand, getCommand, describeCommand, deleteCommand, createCommand, scaleCommand, labelCommand,
  annotateCommand, editCommand, apiResourcesCommand, kubeconfigCommand, versionCommand, apiserverCommand, cniCommand, upCommand, downCommand, statusCommand, logsCommand, rolloutCommand, execCommand, imageCommand, injectCommand,
  proxyStatusCommand, proxyConfigCommand, explainCommand, analyzeCommand, dashboardCommand, topCommand, canaryCommand,
];

function usage(): string {
  const w = Math.max(...commands.map((c) => c.name.length)) + 2;
  return `shoal controls a Shoal cluster (kubectl-compatible commands).\n\nCommands:\n${commands.map((c) => `  ${c.name.padEnd(w)}${c.summary}`).join('\n')}\n\nGlobal flags:\n${globalFlags.map((f) => `  ${f.short ? `-${f.short}, ` : '    '}--${f.name.padEnd(18)}${f.help}`).join('\n')}\n\nUse "shoal COMMAND --help" for a command's flags.\n`;
}

function commandHelp(c: Command): string {
  return `${c.summary}\n\nUsage:\n  ${c.usage}\n${c.flags.length ? `\nFlags:\n${c.flags.map((f) => `  ${f.short ? `-${f.short}, ` : '    '}--${f.name.padEnd(20)}${f.help}`).join('\n')}\n` : ''}`;
}

/** Run the CLI with `argv` (without node and script); resolves with the exit code. */
export async function runCli(argv: string[], io: Io): Promise<number> {
  const { command: name, rest } = splitCommand(argv);
  if (!name) {
    const g = parseArgs(rest, globalFlags);
    (g.flags.help ? io.out : io.err)(usage());
    return g.flags.help ? 0 : 64;
  }
  const cmd = commands.find((c) => c.name === name || c.aliases?.includes(name));
  if (!cmd) {
    io.err(`error: unknown command "${name}" for "shoal"\n\n${usage()}`);
    return 64;
  }
  // raw commands take their own flags; only global flags placed before the command name are read here
  const nameAt = argv.indexOf(name);
  const parsed = cmd.rawArgs ? parseArgs(argv.slice(0, nameAt), globalFlags) : parseArgs(rest, [...globalFlags, ...cmd.flags]);
  if (parsed.problems.length) {
    for (const p of parsed.problems) io.err(`error: ${p}\n`);
    io.err(`See 'shoal ${cmd.name} --help' for usage.\n`);
    return 64;
  }
  if (parsed.flags.help) {
    io.out(commandHelp(cmd));
    return 0;
  }
  const f = parsed.flags;
  const global: GlobalOptions = {
    kubeconfig: f.kubeconfig as string | undefined, context: f.context as string | undefined, server: f.server as string | undefined,
    token: f.token as string | undefined, namespace: f.namespace as string | undefined, home: f.home as string | undefined,
    requestTimeout: f['request-timeout'] as number | undefined,
  };
  const ctx = new Context(io, global);
  try {
    return await cmd.run(ctx, parsed, cmd.rawArgs ? argv.slice(nameAt + 1) : []);
  } catch (e) {
    if (e instanceof ManifestError) io.err(`error: ${e.message}\n`);
    else io.err(`${formatError(e)}\n`);
    if (e instanceof CliError && e.exitCode === 64) io.err(`See 'shoal ${cmd.name} --help' for usage.\n`);
    return e instanceof CliError ? e.exitCode : 1;
  } finally {
    await ctx.close().catch(() => undefined);
  }
}
