// `node dist/inject/webhook/main.js --tls-cert FILE --tls-key FILE [--port 9443] [--bind-address 0.0.0.0]`:
// the sidecar injector as a Kubernetes mutating admission webhook (path /inject). Exit 64 on bad flags,
// reporting each.

import { parseWebhookFlags } from './flags.js';
import { startWebhook } from './server.js';

async function main(): Promise<void> {
  const { flags, errors } = parseWebhookFlags(process.argv.slice(2));
  if (!flags) {
    for (const e of errors) process.stderr.write(`inject-webhook: ${e}\n`);
    process.exit(64);
  }
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const wh = await startWebhook({ ...flags, log });
  log(`sidecar injection webhook listening on https://${flags.host}:${wh.port}/inject`);
  const stop = () => void wh.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
