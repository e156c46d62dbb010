// What every command gets: the I/O seam (stdout, stderr, stdin, environment, clock, editor), the global
// flags, and a KubeClient built lazily from them. Which kubeconfig is used follows kubectl, except that
// with no --kubeconfig and no $KUBECONFIG the admin kubeconfig of the state dir (--home) is used.

import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { homeDir } from '../lib/defaults/defaults.js';
import { KubeClient } from '../api/client/client.js';
import { type ClusterConfig, loadKubeconfig, resolveKubeconfig } from '../api/client/config.js';
import { kubeconfigObject } from '../control-plane/apiserver/kubeconfig.js';
import { CliError } from './errors.js';

/** The process's side effects, replaceable in tests. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  readStdin(): Promise<string>;
  env: NodeJS.ProcessEnv;
  now(): Date;
  /** run `$EDITOR file` in the foreground; resolves with its exit code */
  runEditor(editor: string, file: string): Promise<number>;
  /** resolves when the user interrupts (SIGINT/SIGTERM) */
  interrupted: Promise<void>;
}

/** The real process I/O. */
export function processIo(): Io {
  const interrupted = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  // `shoal get ... | head` closes the pipe early: stop quietly, as kubectl does
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    async readStdin() {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    env: process.env,
    now: () => new Date(),
    runEditor: (editor, file) =>
      new Promise((resolve, reject) => {
        // EDITOR may carry arguments ("code --wait"), as kubectl allows: let the shell split it
        const child = spawn('/bin/sh', ['-c', `${editor} "$1"`, 'sh', file], { stdio: 'inherit' });
        child.on('error', reject);
        child.on('exit', (code) => resolve(code ?? 1));
      }),
    interrupted,
  };
}

/** Global flag values. */
export interface GlobalOptions {
  kubeconfig?: string;
  context?: string;
  server?: string;
  token?: string;
  namespace?: string;
  home?: string;
  requestTimeout?: number;
}

/** The state dir: --home, else $SHOAL_HOME, else /var/lib/shoal. */
export function homeOf(g: GlobalOptions, env: NodeJS.ProcessEnv): string {
  return homeDir(g.home, env);
}

/** Resolve the cluster to talk to from the flags and environment. */
export function clusterConfig(g: GlobalOptions, env: NodeJS.ProcessEnv): ClusterConfig {
  let c: ClusterConfig;
  if (g.kubeconfig || env.KUBECONFIG) {
    c = loadKubeconfig({ path: g.kubeconfig, env, context: g.context });
  } else {
    const home = homeOf(g, env);
    if (!existsSync(join(home, 'pki', 'ca.crt'))) {
      if (!g.server) throw new CliError(`no kubeconfig: pass --kubeconfig, set KUBECONFIG, or start the cluster so that ${join(home, 'pki')} exists (state dir from --home or SHOAL_HOME)`);
      c = { server: g.server };
    } else {
      const server = env.SHOAL_SERVER || 'https://127.0.0.1:6443';
      c = resolveKubeconfig(kubeconfigObject({ home, server }), { context: g.context });
    }
  }
  if (g.server) c = { ...c, server: g.server };
  if (g.token) c = { ...c, token: g.token, certPem: undefined, keyPem: undefined };
  return c;
}

/** Everything a command runs with. */
export class Context {
  private clientValue?: KubeClient;
  constructor(readonly io: Io, readonly global: GlobalOptions) {}

  /** The client for the chosen cluster (created on first use). */
  get client(): KubeClient {
    this.clientValue ??= new KubeClient(clusterConfig(this.global, this.io.env), { userAgent: 'shoal/v0.1.0' });
    return this.clientValue;
  }

  /** -n, else the kubeconfig context's namespace, else 'default'. */
  get namespace(): string {
    return this.global.namespace || this.client.namespace || 'default';
  }

  /** True when -n was given. */
  get explicitNamespace(): boolean {
    return !!this.global.namespace;
  }

  async close(): Promise<void> {
    await this.clientValue?.close();
  }
}
