// shoal-ingress: the ingress controller process (image shoal/ingress). Parses flags and the pod
// environment, finds the API server (--kubeconfig, else the in-cluster service account, else $KUBECONFIG),
// starts the ingress and runs until SIGTERM/SIGINT. Exits 64 on bad configuration after listing every
// bad setting.
import { KubeClient } from '../api/client/index.js';
import { inClusterConfig } from '../dns/config.js';
import { parseIngressFlags, USAGE } from './flags.js';
import { startIngress } from './server.js';

async function main(): Promise<number> {
  const { settings, problems, help } = parseIngressFlags(process.argv.slice(2));
  if (help) { process.stdout.write(`${USAGE}\n`); return 0; }
  if (!settings) {
    process.stderr.write(`${problems.map((p) => `shoal-ingress: ${p}`).join('\n')}\n${USAGE}\n`);
    return 64;
  }
  let client: KubeClient;
  try {
    const inCluster = settings.kubeconfig ? undefined : inClusterConfig(process.env);
    client = inCluster ? new KubeClient(inCluster, { userAgent: 'shoal-ingress' }) : KubeClient.fromKubeconfig(settings.kubeconfig ?? {}, { userAgent: 'shoal-ingress' });
  } catch (e) {
    process.stderr.write(`shoal-ingress: --kubeconfig: ${(e as Error).message}\n`);
    return 64;
  }
  const ing = await startIngress(settings, client);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await ing.close();
  await client.close();
  return 0;
}

main().then((code) => process.exit(code), (e) => {
  process.stderr.write(`shoal-ingress: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
