// `shoal cni install`: compiles the C shim with the paths of this installation baked in (node and
// the standalone plugin), copies it into the CNI bin directory as shoal-bridge and shoal-ipam,
// and writes the default conflist 10-shoal.conflist (shoal-bridge + shoal-ipam, chained with the
// reference portmap). The conflist says cniVersion 1.0.0 because Debian's reference plugins stop
// there; Shoal's plugins answer any of 0.3.0 to 1.1.0.

import { PATHS } from '../lib/defaults/defaults.js';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pluginNames } from './plugins.js';

/** Options of an installation; every path has a default. */
export interface InstallOptions {
  binDir?: string;
  confDir?: string;
  /** Network name (also the IPAM data directory name). Default "shoal". */
  network?: string;
  bridge?: string;
  subnet?: string;
  /** Egress masquerade for pods (on for users, off in tests). */
  ipMasq?: boolean;
  /** Daemon socket baked into the shim. */
  socket?: string;
  /** C compiler. Default "cc". */
  cc?: string;
}

/** What install did. */
export interface InstallReport {
  binaries: string[];
  conflist: string;
}

const here = dirname(fileURLToPath(import.meta.url)); // dist/cni

/** The repository (or package) root, found from the compiled module's location. */
export function packageRoot(): string {
  return resolve(here, '..', '..');
}

/** The shell command that builds the shim for this checkout (what CI runs). */
export function shimBuildArgs(out: string, socket: string = PATHS.cniSocket): string[] {
  const root = packageRoot();
  return [
    '-O2',
    '-Wall',
    '-o',
    out,
    join(root, 'cni', 'shim', 'shim.c'),
    `-DSHOAL_NODE="${process.execPath}"`,
    `-DSHOAL_STANDALONE="${join(root, 'dist', 'cni', 'standalone', 'main.js')}"`,
    `-DSHOAL_SOCKET="${socket}"`,
  ];
}

/** The default conflist text. */
export function defaultConflist(o: InstallOptions = {}): string {
  const list = {
    cniVersion: '1.0.0',
    name: o.network ?? 'shoal',
    plugins: [
      {
        type: 'shoal-bridge',
        bridge: o.bridge ?? 'shoal0',
        isGateway: true,
        isDefaultGateway: true,
        hairpinMode: true,
        ipMasq: o.ipMasq ?? true,
        capabilities: { ips: true, mac: true, dns: true },
        ipam: { type: 'shoal-ipam', ranges: [[{ subnet: o.subnet ?? '10.244.0.0/24' }]] },
      },
      { type: 'portmap', snat: true, capabilities: { portMappings: true } },
    ],
  };
  return JSON.stringify(list, null, 2) + '\n';
}

/** Installs the plugins and the conflist. Throws with the failing step's message. */
export function installCni(o: InstallOptions = {}): InstallReport {
  const binDir = o.binDir ?? PATHS.cniBinDir;
  const confDir = o.confDir ?? PATHS.cniConfDir;
  mkdirSync(binDir, { recursive: true });
  mkdirSync(confDir, { recursive: true });
  const built = join(binDir, `.shoal-cni-shim.${process.pid}`);
  try {
    execFileSync(o.cc ?? 'cc', shimBuildArgs(built, o.socket), { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? (e as Error).message;
    throw new Error(`cni install: building the shim failed (is gcc installed?): ${stderr.trim()}`);
  }
  const binaries: string[] = [];
  for (const name of pluginNames) {
    const dst = join(binDir, name);
    copyFileSync(built, `${dst}.tmp`);
    chmodSync(`${dst}.tmp`, 0o755);
    renameSync(`${dst}.tmp`, dst); // atomic: a running runtime never sees half a binary
    binaries.push(dst);
  }
  if (existsSync(built)) renameSync(built, join(binDir, '.shoal-cni-shim'));
  const conflist = join(confDir, '10-shoal.conflist');
  writeFileSync(conflist, defaultConflist(o));
  return { binaries, conflist };
}
