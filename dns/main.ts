// shoal-dns: the cluster DNS server process. Parses flags, finds the API server (--kubeconfig, else the
// in-cluster service account, else $KUBECONFIG), starts the server and runs until SIGTERM/SIGINT.
// Exits 64 on bad configuration after printing every bad setting.

import { KubeClient } from '../api/client/index.js';
import { FlagError, inClusterConfig, parseFlags, USAGE } from './config.js';
import { startDnsServer } from './server.js';

async function main(): Promise<number> {
  let flags;
  try {
    flags = parseFlags(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof FlagError)) throw e;
    process.stderr.write(`${e.message}\n${USAGE}\n`);
    return 64;
  }
  if (flags.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  let client: KubeClient;
  try {
    const inCluster = flags.kubeconfig ? undefined : inClusterConfig(process.env);
    client = inCluster ? new KubeClient(inCluster, { userAgent: 'shoal-dns' }) : KubeClient.fromKubeconfig(flags.kubeconfig ?? {}, { userAgent: 'shoal-dns' });
  } catch (e) {
    process.stderr.write(`--kubeconfig: ${(e as Error).message}\n`);
    return 64;
  }
  const log = (m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`);
  const server = await startDnsServer(flags.config, client, log);
  log(`dns: listening on ${flags.config.listenHost}:${server.port} (udp+tcp), zone ${flags.config.zone}, upstreams ${flags.config.upstreams.map((u) => `${u.host}:${u.port}`).join(',') || 'none'}`);
  server.waitForSync().then(() => log('dns: informers synced, ready'), () => undefined);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await server.close();
  await client.close();
  return 0;
}

main().then((code) => process.exit(code), (e) => {
  process.stderr.write(`shoal-dns: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
