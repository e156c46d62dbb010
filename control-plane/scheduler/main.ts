// kube-scheduler for Shoal: parse flags (exit 64 reporting every bad one), schedule under leader
// election until SIGTERM/SIGINT; exit 1 if leadership is lost.

import pino from 'pino';
import { parseSchedulerFlags, startScheduler } from './run.js';

const { config, problems } = parseSchedulerFlags(process.argv.slice(2));
if (!config) {
  for (const p of problems) process.stderr.write(`shoal scheduler: ${p}\n`);
  process.exit(64);
}
const logger = pino({ level: config.logLevel, base: { component: 'scheduler' } });
const s = await startScheduler(config, {
  log: (msg, fields) => logger.info(fields ?? {}, msg),
  onLost: () => {
    logger.error('leaderelection lost');
    process.exit(1);
  },
});
logger.info({ health: s.healthUrl, identity: s.identity }, 'scheduler started');
await new Promise<void>((resolve) => {
  process.once('SIGTERM', resolve);
  process.once('SIGINT', resolve);
});
await s.stop();
process.exit(0);
