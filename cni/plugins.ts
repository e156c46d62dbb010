// The registry of Shoal's plugins by executable name. The bridge reaches shoal-ipam in-process
// through the same registry, so a daemon or standalone ADD never forks a second Node.

import { makeBridgePlugin } from './bridge/plugin.js';
import { type Kernel, realKernel } from './bridge/kernel.js';
import type { Runner } from '../lib/host/run.js';
import { Invoker } from './invoke/invoke.js';
import { makeIpamPlugin, type StoreFactory } from './ipam/plugin.js';
import type { PluginTable } from './skel/skel.js';

/** The names the plugins are installed under. */
export const pluginNames = ['shoal-bridge', 'shoal-ipam'] as const;

/** Seams a caller may replace (tests); the defaults touch the real system. */
export interface PluginSeams {
  kernel?: Kernel;
  exec?: Runner;
  store?: StoreFactory;
}

/** Builds the plugin tables, wired to each other. */
export function makePlugins(seams: PluginSeams = {}): Map<string, PluginTable> {
  const registry = new Map<string, PluginTable>();
  registry.set('shoal-ipam', makeIpamPlugin(seams.store));
  const invoker = new Invoker(registry, seams.exec);
  registry.set('shoal-bridge', makeBridgePlugin({ kernel: seams.kernel ?? realKernel, invoker }));
  return registry;
}
