// The runtime side of CNI (what libcni is to containerd): run a network list's plugins in order for
// ADD and CHECK and in reverse for DEL, each with the list's name and version, `prevResult` from the
// plugin before, and `runtimeConfig` holding only the capabilities it declares. The final ADD
// result is cached under <cacheDir>/results like libcni, so DEL and CHECK get prevResult and GC
// knows the attachments. Plugin failures surface as PluginError (a CniError naming the plugin).

import { mkdirSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Invoker } from '../invoke/invoke.js';
import type { Command } from '../skel/skel.js';
import { CniCode, CniError } from '../spec/errors.js';
import type { Attachment } from '../spec/types.js';
import { compareVersions } from '../spec/version.js';
import { type NetworkList, parseConfList } from './conflist.js';

/** Per-attachment parameters, as libcni's RuntimeConf. */
export interface RuntimeConf {
  containerID: string;
  netns: string;
  ifName: string;
  /** CNI_ARGS pairs. */
  args?: [string, string][];
  /** Values for capabilities (portMappings, ips, mac, bandwidth, dns, ...). */
  capabilityArgs?: Record<string, unknown>;
}

/** A plugin's failure, with the plugin and command it came from. */
export class PluginError extends CniError {
  constructor(
    readonly plugin: string,
    readonly command: Command,
    cause: CniError,
  ) {
    super(cause.code, `plugin ${plugin} ${command}: ${cause.message}`, cause.details);
    this.name = 'PluginError';
  }
}

/** The cache record libcni writes (kind cniCacheV1). */
interface CacheEntry {
  kind: 'cniCacheV1';
  containerId: string;
  config: string;
  ifName: string;
  networkName: string;
  netns: string;
  cniArgs?: [string, string][];
  capabilityArgs?: Record<string, unknown>;
  result?: Record<string, unknown>;
}

/** Options of a runtime instance. */
export interface RuntimeOptions {
  /** Directories searched for plugin executables (CNI_PATH). */
  binDirs: string[];
  /** Root of libcni's cache (results under <cacheDir>/results). Default /var/lib/cni. */
  cacheDir?: string;
  invoker?: Invoker;
}

/** Runs network lists; one instance is shared by all pods of a node. */
export class CniRuntime {
  private readonly invoker: Invoker;
  private readonly cacheDir: string;
  private readonly versions = new Map<string, Promise<string[]>>();

  constructor(private readonly opts: RuntimeOptions) {
    this.invoker = opts.invoker ?? new Invoker();
    this.cacheDir = opts.cacheDir ?? '/var/lib/cni';
  }

  private env(rt: Partial<RuntimeConf>): Record<string, string> {
    const e: Record<string, string> = { CNI_PATH: this.opts.binDirs.join(':') };
    if (rt.containerID) e.CNI_CONTAINERID = rt.containerID;
    if (rt.netns) e.CNI_NETNS = rt.netns;
    if (rt.ifName) e.CNI_IFNAME = rt.ifName;
    if (rt.args?.length) e.CNI_ARGS = rt.args.map(([k, v]) => `${k}=${v}`).join(';');
    return e;
  }

  /** The versions a plugin supports (VERSION, asked once per plugin type). */
  supportedBy(type: string): Promise<string[]> {
    let p = this.versions.get(type);
    if (!p) {
      p = this.invoker
        .run(type, 'VERSION', Buffer.from('{"cniVersion":"1.1.0"}'), this.env({}), 'plugins[].type')
        .then((v) => ((v as { supportedVersions?: string[] })?.supportedVersions ?? []));
      p.catch(() => this.versions.delete(type));
      this.versions.set(type, p);
    }
    return p;
  }

  /** Throws code 1 when some plugin of the list cannot speak the list's version. */
  async negotiate(list: NetworkList): Promise<void> {
    for (const [i, p] of list.plugins.entries()) {
      const sv = await this.supportedBy(p.type).catch((e) => {
        throw new PluginError(p.type, 'VERSION', e instanceof CniError ? e : new CniError(CniCode.Generic, String(e)));
      });
      if (!sv.includes(list.cniVersion)) {
        throw new CniError(
          CniCode.IncompatibleVersion,
          `plugins[${i}] (${p.type}): does not support cniVersion ${list.cniVersion} of network ${list.name} (supports ${sv.join(', ')})`,
        );
      }
    }
  }

  private pluginConf(list: NetworkList, i: number, rt: Partial<RuntimeConf>, prev: unknown, extra: Record<string, unknown> = {}): Buffer {
    const p = list.plugins[i];
    const conf: Record<string, unknown> = { ...p, name: list.name, cniVersion: list.cniVersion, ...extra };
    const rc: Record<string, unknown> = {};
    for (const [cap, on] of Object.entries(p.capabilities ?? {})) {
      if (on && rt.capabilityArgs && rt.capabilityArgs[cap] !== undefined) rc[cap] = rt.capabilityArgs[cap];
    }
    if (Object.keys(rc).length) conf.runtimeConfig = { ...((p.runtimeConfig as object) ?? {}), ...rc };
    if (prev !== undefined) conf.prevResult = prev;
    return Buffer.from(JSON.stringify(conf));
  }

  private async call(list: NetworkList, i: number, cmd: Command, rt: Partial<RuntimeConf>, prev?: unknown, extra?: Record<string, unknown>): Promise<unknown> {
    const type = list.plugins[i].type;
    try {
      return await this.invoker.run(type, cmd, this.pluginConf(list, i, rt, prev, extra), this.env(rt), `plugins[${i}].type`);
    } catch (e) {
      throw new PluginError(type, cmd, e instanceof CniError ? e : new CniError(CniCode.Generic, String(e)));
    }
  }

  private cachePath(network: string, rt: Pick<RuntimeConf, 'containerID' | 'ifName'>): string {
    return join(this.cacheDir, 'results', `${network}-${rt.containerID}-${rt.ifName}`);
  }

  private readCache(network: string, rt: Pick<RuntimeConf, 'containerID' | 'ifName'>): CacheEntry | undefined {
    try {
      return JSON.parse(readFileSync(this.cachePath(network, rt), 'utf8')) as CacheEntry;
    } catch {
      return undefined;
    }
  }

  /** The cached ADD result of an attachment, if any. */
  cachedResult(list: NetworkList, rt: Pick<RuntimeConf, 'containerID' | 'ifName'>): Record<string, unknown> | undefined {
    return this.readCache(list.name, rt)?.result;
  }

  /** ADD: runs the plugins in order; on failure, DELs what was added (like libcni) and rethrows. */
  async add(list: NetworkList, rt: RuntimeConf): Promise<Record<string, unknown>> {
    await this.negotiate(list);
    let prev: unknown;
    for (let i = 0; i < list.plugins.length; i++) {
      try {
        prev = await this.call(list, i, 'ADD', rt, prev);
      } catch (e) {
        await this.del(list, rt).catch(() => undefined);
        throw e;
      }
    }
    const entry: CacheEntry = {
      kind: 'cniCacheV1',
      containerId: rt.containerID,
      config: list.bytes.toString('base64'),
      ifName: rt.ifName,
      networkName: list.name,
      netns: rt.netns,
      ...(rt.args ? { cniArgs: rt.args } : {}),
      ...(rt.capabilityArgs ? { capabilityArgs: rt.capabilityArgs } : {}),
      result: prev as Record<string, unknown>,
    };
    const path = this.cachePath(list.name, rt);
    mkdirSync(join(this.cacheDir, 'results'), { recursive: true, mode: 0o700 });
    writeFileSync(`${path}.tmp`, JSON.stringify(entry), { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
    return prev as Record<string, unknown>;
  }

  /** CHECK: runs the plugins in order with the cached result; a no-op when disableCheck is set. */
  async check(list: NetworkList, rt: RuntimeConf): Promise<void> {
    if (list.disableCheck) return;
    if (compareVersions(list.cniVersion, '0.4.0') < 0) throw new CniError(CniCode.IncompatibleVersion, `network ${list.name}: CHECK needs cniVersion 0.4.0 or later`);
    const prev = this.cachedResult(list, rt);
    if (!prev) throw new CniError(CniCode.UnknownContainer, `network ${list.name}: no cached result for ${rt.containerID}/${rt.ifName}`);
    for (let i = 0; i < list.plugins.length; i++) await this.call(list, i, 'CHECK', rt, prev);
  }

  /** DEL: runs the plugins in reverse with the cached result, then drops the cache entry. */
  async del(list: NetworkList, rt: Pick<RuntimeConf, 'containerID' | 'ifName'> & Partial<RuntimeConf>): Promise<void> {
    const cached = this.readCache(list.name, rt);
    const prev = compareVersions(list.cniVersion, '0.4.0') >= 0 ? cached?.result : undefined;
    const full: Partial<RuntimeConf> = { netns: cached?.netns, args: cached?.cniArgs, capabilityArgs: cached?.capabilityArgs, ...rt };
    for (let i = list.plugins.length - 1; i >= 0; i--) await this.call(list, i, 'DEL', full, prev);
    try {
      unlinkSync(this.cachePath(list.name, rt));
    } catch {
      /* nothing cached */
    }
  }

  /** The attachments cached for a network. */
  cachedAttachments(network: string): (Attachment & { netns: string; config: string })[] {
    const out: (Attachment & { netns: string; config: string })[] = [];
    let names: string[] = [];
    try {
      names = readdirSync(join(this.cacheDir, 'results'));
    } catch {
      return out;
    }
    for (const n of names) {
      if (!n.startsWith(`${network}-`) || n.endsWith('.tmp')) continue;
      try {
        const e = JSON.parse(readFileSync(join(this.cacheDir, 'results', n), 'utf8')) as CacheEntry;
        if (e.networkName === network) out.push({ containerID: e.containerId, ifname: e.ifName, netns: e.netns, config: e.config });
      } catch {
        /* unreadable entry */
      }
    }
    return out;
  }

  /** GC: DELs cached attachments not in `valid`, then (1.1.0+, unless disableGC) sends GC to each plugin. */
  async gc(list: NetworkList, valid: Attachment[]): Promise<void> {
    const keep = new Set(valid.map((a) => `${a.containerID}\n${a.ifname}`));
    const errors: CniError[] = [];
    for (const a of this.cachedAttachments(list.name)) {
      if (keep.has(`${a.containerID}\n${a.ifname}`)) continue;
      const cachedList = parseConfList(JSON.parse(Buffer.from(a.config, 'base64').toString('utf8')));
      await this.del(cachedList, { containerID: a.containerID, ifName: a.ifname, netns: a.netns }).catch((e) => errors.push(e));
    }
    if (!list.disableGC && compareVersions(list.cniVersion, '1.1.0') >= 0) {
      for (let i = 0; i < list.plugins.length; i++) {
        await this.call(list, i, 'GC', {}, undefined, { 'cni.dev/valid-attachments': valid }).catch((e) => errors.push(e));
      }
    }
    if (errors.length) throw errors[0];
  }

  /** STATUS (1.1.0+): resolves when every plugin says ADD can succeed. */
  async status(list: NetworkList): Promise<void> {
    if (compareVersions(list.cniVersion, '1.1.0') < 0) return;
    for (let i = 0; i < list.plugins.length; i++) await this.call(list, i, 'STATUS', {});
  }
}
