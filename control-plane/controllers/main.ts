// kube-controller-manager for Shoal: parse flags (exit 64 reporting every bad one), run the controllers
// under leader election until SIGTERM/SIGINT; exit 1 if leadership is lost, as kube's does.

import pino from 'pino';
import { parseManagerFlags } from './flags.js';
import { startControllerManager } from './manager.js';

const { config, problems } = parseManagerFlags(process.argv.slice(2));
if (!config) {
  for (const p of problems) process.stderr.write(`shoal controller-manager: ${p}\n`);
  process.exit(64);
}
const logger = pino({ level: config.logLevel, base: { component: 'controller-manager' } });
const cm = await startControllerManager(config, {
  log: (msg, fields) => logger.info(fields ?? {}, msg),
  onLost: () => {
    logger.error('leaderelection lost');
    process.exit(1);
  },
});
logger.info({ health: cm.healthUrl, identity: cm.identity }, 'controller manager started');
await new Promise<void>((resolve) => {
  process.once('SIGTERM', resolve);
  process.once('SIGINT', resolve);
});
await cm.stop();
process.exit(0);
