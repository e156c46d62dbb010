// The sidecar process (istio-proxy): settings from the injector's environment and flags, then
// startSidecar. Exit 64 on bad configuration (every problem listed), 1 on a startup failure.
import { parseSidecarFlags } from './flags.js';
import { startSidecar, StartupError } from './build.js';

const { settings, problems } = parseSidecarFlags(process.argv.slice(2));
if (!settings) {
  for (const p of problems) console.error(`sidecar: ${p}`);
  process.exit(64);
}
try {
  const sc = await startSidecar(settings);
  // SIGTERM: stop accepting, let open connections finish for up to the drain duration (Istio's
  // TERMINATION_DRAIN_DURATION_SECONDS, default 5 s), then exit.
  const drainSec = Number(process.env.TERMINATION_DRAIN_DURATION_SECONDS ?? 5);
  const stop = (): void => {
    setTimeout(() => process.exit(0), (Number.isFinite(drainSec) ? drainSec : 5) * 1000).unref();
    sc.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} catch (e) {
  console.error(`sidecar: ${(e as Error).message}`);
  process.exit(e instanceof StartupError ? 64 : 1);
}
