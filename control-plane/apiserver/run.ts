// Starting the API server as a process: flags, state dir, PKI, store, listen, graceful shutdown.
// Used by `control-plane/apiserver/main.ts` and by `shoal apiserver`.

import { parseArgs } from 'node:util';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PORTS, RANGES, homeDir } from '../../lib/defaults/defaults.js';
import pino from 'pino';
import { ensurePki, readTokenFile } from './pki.js';
import { ensureServiceAccountKey } from '../controllers/serviceaccount/token.js';
import { buildServer, type ApiServer } from './server.js';
import { openStore } from '../store/open.js';
import { encryptingStore, ensureEncryptionConfig } from './storage/encryption.js';
import { startAutoCompaction } from '../store/compactor.js';

/** Validated settings of the API server process. */
export interface ApiServerConfig {
  home: string;
  store: string;
  bindAddress: string;
  port: number;
  advertiseAddress: string;
  logLevel: string;
  /** default 10.96.0.0/12 */
  serviceCidr?: string;
  /** default 30000-32767 */
  nodePortRange?: string;
  /** how often the metrics API scrapes the node agents (default 15 s; `--metric-resolution`, env SHOAL_METRIC_RESOLUTION) */
  metricResolutionMs?: number;
  /** the EncryptionConfiguration file (`--encryption-provider-config`; default `<home>/pki/encryption-config.yaml`, created when missing) */
  encryptionConfig?: string;
}

/** Default state dir: $SHOAL_HOME or /var/lib/shoal. */
export function defaultHome(env: NodeJS.ProcessEnv = process.env): string {
  return homeDir(undefined, env);
}

/** Parse flags; returns the config or every problem found. */
export function parseApiServerFlags(argv: string[], env: NodeJS.ProcessEnv = process.env): { config?: ApiServerConfig; problems: string[] } {
  const problems: string[] = [];
  const known = ['home', 'store', 'bind-address', 'secure-port', 'advertise-address', 'log-level', 'service-cluster-ip-range', 'service-node-port-range', 'metric-resolution', 'encryption-provider-config'];
  // Parse leniently, then report every unknown flag and every bad value together.
  const { values, tokens } = parseArgs({
    args: argv,
    options: Object.fromEntries(known.map((k) => [k, { type: 'string' as const }])),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  for (const tok of tokens ?? []) {
    if (tok.kind === 'option' && !known.includes(tok.name)) problems.push(`unknown flag: ${tok.rawName}`);
    else if (tok.kind === 'option' && tok.value === undefined) problems.push(`${tok.rawName}: needs a value`);
    else if (tok.kind === 'positional') problems.push(`unexpected argument: ${JSON.stringify(tok.value)}`);
  }
  const home = (values.home as string | undefined) ?? defaultHome(env);
  const portText = (values['secure-port'] as string | undefined) ?? String(PORTS.apiServer);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) problems.push(`--secure-port: must be an integer between 0 and 65535, got ${JSON.stringify(portText)}`);
  const store = (values.store as string | undefined) ?? join(home, 'store', 'state.db');
  if (!/^(etcd:\/\/|sqlite:\/\/|\/|\.)/.test(store)) problems.push(`--store: must be etcd://host:port[,host:port] or a SQLite file path, got ${JSON.stringify(store)}`);
  const logLevel = (values['log-level'] as string | undefined) ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) problems.push(`--log-level: must be one of fatal, error, warn, info, debug, trace, silent, got ${JSON.stringify(logLevel)}`);
  const bindAddress = (values['bind-address'] as string | undefined) ?? '0.0.0.0';
  const advertiseAddress = (values['advertise-address'] as string | undefined) ?? '127.0.0.1';
  const serviceCidr = (values['service-cluster-ip-range'] as string | undefined) ?? RANGES.serviceCidr;
  if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(serviceCidr)) problems.push(`--service-cluster-ip-range: must be an IPv4 CIDR, got ${JSON.stringify(serviceCidr)}`);
  const nodePortRange = (values['service-node-port-range'] as string | undefined) ?? RANGES.nodePortRange;
  if (!/^\d+-\d+$/.test(nodePortRange)) problems.push(`--service-node-port-range: must be FIRST-LAST, got ${JSON.stringify(nodePortRange)}`);
  const resolutionText = (values['metric-resolution'] as string | undefined) ?? env.SHOAL_METRIC_RESOLUTION ?? '15s';
  const metricResolutionMs = parseGoDuration(resolutionText);
  if (metricResolutionMs === undefined || metricResolutionMs < 100) problems.push(`--metric-resolution: must be a duration of at least 100ms (15s, 2s, 500ms), got ${JSON.stringify(resolutionText)}`);
  const encryptionConfig = values['encryption-provider-config'] as string | undefined;
  if (problems.length) return { problems };
  return { config: { home, store, bindAddress, port, advertiseAddress, logLevel, serviceCidr, nodePortRange, metricResolutionMs, ...(encryptionConfig ? { encryptionConfig } : {}) }, problems };
}

/** `15s`, `500ms`, `1m`, `1.5s` → milliseconds; undefined when malformed. */
function parseGoDuration(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(s);
  if (!m) return undefined;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms']!;
}

/** Start the server; resolves with it once listening. */
export async function startApiServer(c: ApiServerConfig): Promise<{ server: ApiServer; url: string }> {
  mkdirSync(join(c.home, 'store'), { recursive: true });
  const pki = ensurePki(c.home, { ips: c.advertiseAddress !== '127.0.0.1' ? [c.advertiseAddress] : [] });
  const saKey = ensureServiceAccountKey(join(pki.dir, 'sa.key'));
  // secrets are encrypted at rest with the state dir's key (storage/encryption.ts)
  const encryption = ensureEncryptionConfig(c.encryptionConfig ?? join(pki.dir, 'encryption-config.yaml'));
  const store = encryptingStore(await openStore(c.store), encryption);
  const compactor = startAutoCompaction(store);
  const logger = pino({ level: c.logLevel, base: { component: 'apiserver' } });
  const server = buildServer({
    store,
    tls: { key: pki.serverKeyPem, cert: pki.serverCertPem },
    tokens: readTokenFile(join(pki.dir, 'tokens.csv')),
    advertiseAddress: `${c.advertiseAddress}:${c.port}`,
    serviceAllocation: { serviceCidr: c.serviceCidr ?? RANGES.serviceCidr, nodePortRange: c.nodePortRange ?? RANGES.nodePortRange },
    serviceAccountPublicKey: saKey.publicKeyPem,
    serviceAccountTokens: true,
    metricResolutionMs: c.metricResolutionMs ?? 15_000,
    // per-request access logs only at debug level; errors always
    logger: logger.child({}, { level: c.logLevel === 'debug' || c.logLevel === 'trace' ? c.logLevel : 'warn' }),
  });
  await server.bootstrap();
  const address = await server.app.listen({ host: c.bindAddress, port: c.port });
  logger.info({ address, store: c.store.startsWith('etcd://') ? c.store : 'sqlite' }, 'API server listening');
  const origClose = server.close;
  server.close = async () => {
    await origClose();
    compactor.stop();
    await store.close();
  };
  return { server, url: address };
}

/** Run until SIGTERM/SIGINT. Returns the exit code. */
export async function runApiServer(argv: string[]): Promise<number> {
  const { config, problems } = parseApiServerFlags(argv);
  if (!config) {
    for (const p of problems) process.stderr.write(`shoal apiserver: ${p}\n`);
    return 64;
  }
  const { server } = await startApiServer(config);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await server.close();
  return 0;
}
