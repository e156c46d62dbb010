// Where the client connects and with which credentials: a kubeconfig (file, $KUBECONFIG, ~/.kube/config or
// an object already parsed) resolved to one ClusterConfig, the way client-go's clientcmd does it. Pure
// apart from reading the files a kubeconfig names; the file system is a seam (`readFile`) for tests.

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import YAML from 'yaml';

/** Everything needed to reach one API server. */
export interface ClusterConfig {
  /** https://host:port[/prefix] */
  server: string;
  /** PEM of the CA that signed the server's certificate; the system CAs when absent. */
  caPem?: string;
  token?: string;
  /** client certificate and key (PEM), for x509 authentication */
  certPem?: string;
  keyPem?: string;
  insecureSkipTlsVerify?: boolean;
  /** the namespace of the current context ('default' when it names none) */
  namespace?: string;
}

/** Where to find a kubeconfig: an explicit path, an object, or the environment's default. */
export interface KubeconfigSource {
  path?: string;
  object?: Record<string, unknown>;
  context?: string;
  env?: NodeJS.ProcessEnv;
  readFile?: (path: string) => string;
}

/** A kubeconfig that cannot be used; the message names the file and the field at fault. */
export class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

/** The kubeconfig files to read, in order: the path given, then $KUBECONFIG's list, then ~/.kube/config. */
export function kubeconfigPaths(path: string | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
  if (path) return [path];
  if (env.KUBECONFIG) return env.KUBECONFIG.split(delimiter).filter((p) => p !== '');
  return [join(env.HOME || homedir(), '.kube', 'config')];
}

type Named<T> = { name: string } & T;

function namedEntry<T>(cfg: Record<string, unknown>, list: string, name: string, where: string): T {
  const arr = cfg[list];
  if (!Array.isArray(arr)) throw new KubeconfigError(`${where}: ${list}: must be a list`);
  const hit = (arr as Named<Record<string, unknown>>[]).find((e) => e && e.name === name);
  if (!hit) throw new KubeconfigError(`${where}: ${list}: no entry named ${JSON.stringify(name)}`);
  const key = list.slice(0, -1); // clusters -> cluster
  return (hit[key] ?? {}) as T;
}

/**
 * Resolve a kubeconfig object to a ClusterConfig for its current context (or `context`).
 * `baseDir` resolves relative file references, as kubectl resolves them against the file's folder.
 */
export function resolveKubeconfig(cfg: Record<string, unknown>, o: { context?: string; baseDir?: string; where?: string; readFile?: (p: string) => string } = {}): ClusterConfig {
  const where = o.where ?? 'kubeconfig';
  const read = o.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const file = (p: string) => read(isAbsolute(p) || !o.baseDir ? p : join(o.baseDir, p));
  const ctxName = o.context ?? (cfg['current-context'] as string | undefined);
  if (!ctxName) throw new KubeconfigError(`${where}: current-context: Required value (no context chosen)`);
  const ctx = namedEntry<Record<string, string>>(cfg, 'contexts', ctxName, where);
  if (!ctx.cluster) throw new KubeconfigError(`${where}: contexts[${ctxName}].cluster: Required value`);
  const cluster = namedEntry<Record<string, unknown>>(cfg, 'clusters', ctx.cluster, where);
  const user = ctx.user ? namedEntry<Record<string, unknown>>(cfg, 'users', ctx.user, where) : {};
  const server = cluster.server as string | undefined;
  if (!server) throw new KubeconfigError(`${where}: clusters[${ctx.cluster}].server: Required value`);
  const out: ClusterConfig = { server, namespace: ctx.namespace || 'default' };
  if (typeof cluster['certificate-authority-data'] === 'string') out.caPem = Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8');
  else if (typeof cluster['certificate-authority'] === 'string') out.caPem = file(cluster['certificate-authority']);
  if (cluster['insecure-skip-tls-verify'] === true) out.insecureSkipTlsVerify = true;
  if (typeof user.token === 'string') out.token = user.token;
  else if (typeof user.tokenFile === 'string') out.token = file(user.tokenFile).trim();
  if (typeof user['client-certificate-data'] === 'string') out.certPem = Buffer.from(user['client-certificate-data'], 'base64').toString('utf8');
  else if (typeof user['client-certificate'] === 'string') out.certPem = file(user['client-certificate']);
  if (typeof user['client-key-data'] === 'string') out.keyPem = Buffer.from(user['client-key-data'], 'base64').toString('utf8');
  else if (typeof user['client-key'] === 'string') out.keyPem = file(user['client-key']);
  return out;
}

/** Load a kubeconfig from a path, $KUBECONFIG, ~/.kube/config, or an object, and resolve it. */
export function loadKubeconfig(src: KubeconfigSource = {}): ClusterConfig {
  const read = src.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  if (src.object) return resolveKubeconfig(src.object, { context: src.context, readFile: read });
  const paths = kubeconfigPaths(src.path, src.env ?? process.env);
  // Several files (KUBECONFIG=a:b) merge as kubectl does: the first file to set a value wins.
  let merged: Record<string, unknown> | undefined;
  let baseDir: string | undefined;
  const errs: string[] = [];
  for (const p of paths) {
    let text: string;
    try {
      text = read(p);
    } catch (e) {
      errs.push(`${p}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
      continue;
    }
    let doc: unknown;
    try {
      doc = YAML.parse(text);
    } catch (e) {
      throw new KubeconfigError(`${p}: ${(e as Error).message.split('\n')[0]}`);
    }
    if (!doc || typeof doc !== 'object') throw new KubeconfigError(`${p}: not a kubeconfig (expected a mapping)`);
    baseDir ??= dirname(p);
    merged = mergeConfigs(merged, doc as Record<string, unknown>);
  }
  if (!merged) throw new KubeconfigError(`no kubeconfig found: ${errs.join('; ')}`);
  return resolveKubeconfig(merged, { context: src.context, baseDir, where: paths.join(delimiter), readFile: read });
}

function mergeConfigs(a: Record<string, unknown> | undefined, b: Record<string, unknown>): Record<string, unknown> {
  if (!a) return { ...b };
  const out: Record<string, unknown> = { ...b, ...a };
  for (const list of ['clusters', 'contexts', 'users']) {
    const seen = new Set<string>();
    const items: Named<object>[] = [];
    for (const e of [...((a[list] as Named<object>[]) ?? []), ...((b[list] as Named<object>[]) ?? [])]) {
      if (!seen.has(e.name)) items.push(e);
      seen.add(e.name);
    }
    out[list] = items;
  }
  return out;
}
