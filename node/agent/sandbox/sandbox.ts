// A pod's sandbox, the agent's pause container: a network namespace wired by CNI ADD (conflist from the
// CNI config dir), the pod's own resolv.conf/hosts/hostname, and a holder process that owns the pod's
// PID, IPC, UTS and mount namespaces (created with `unshare` inside the netns). Containers later
// `nsenter --target <holder>` into all of them. Volumes and the /etc files are bind mounts made by the
// holder inside its private mount namespace, so nothing shows on the host. State goes to
// <home>/pods/<uid>/sandbox.json so a restarted agent can adopt the sandbox.
//
//   ip netns add <prefix><uid8> ─► CNI ADD (eth0) ─► write etc/ files ─► nsenter --net unshare -fpimu
//                                                                          └► sh: hostname, mount --bind…, exec sleep

import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CniRuntime } from '../../../cni/runtime/runtime.js';
import { loadConfDir, type NetworkList } from '../../../cni/runtime/conflist.js';
import { shq } from '../../../lib/host/run.js';
import type { Os } from '../os.js';
import type { MountPlan } from '../containers/volumes.js';
import { type DnsSettings, hostsFile, podHostname, resolvConf } from './dns.js';
import type { Pod } from '../pods/types.js';

/** What the sandbox needs from the node. */
export interface SandboxDeps {
  os: Os;
  home: string;
  netnsPrefix: string;
  cniRuntime?: CniRuntime;
  cniConfDir: string;
  dns: DnsSettings;
}

/** A created sandbox (persisted as sandbox.json). */
export interface SandboxInfo {
  uid: string;
  dir: string;
  hostNetwork: boolean;
  hostPID: boolean;
  netns?: string;
  network?: string;
  podIPs: string[];
  holderPid: number;
  holderStart: string;
  launcherPid: number;
  /** mount-point directories this sandbox had to create on the (shared) root filesystem */
  createdDirs: string[];
}

/** The directory of a pod's state. */
export function podDir(home: string, uid: string): string {
  return join(home, 'pods', uid);
}

/** The netns name of a pod. */
export function netnsName(prefix: string, uid: string): string {
  return `${prefix}${uid.replace(/-/g, '').slice(0, 12)}`;
}

function firstMissing(p: string): string | undefined {
  let cur = p;
  let missing: string | undefined;
  while (cur !== '/' && !existsSync(cur)) {
    missing = cur;
    cur = dirname(cur);
  }
  return missing;
}

/** The holder's setup script (mounts inside the new mount namespace, then sleep as the pod's init). */
export function holderScript(hostname: string | undefined, etc: { source: string; target: string }[], mounts: MountPlan[]): string {
  const lines = ['set -e'];
  if (hostname) lines.push(`hostname ${shq(hostname)}`);
  for (const m of etc) lines.push(`mount --bind ${shq(m.source)} ${shq(m.target)}`);
  for (const m of mounts) {
    lines.push(`mount --bind ${shq(m.source)} ${shq(m.target)}`);
    if (m.readOnly) lines.push(`mount -o remount,bind,ro ${shq(m.target)}`);
  }
  lines.push('echo ok', 'exec sleep infinity </dev/null >/dev/null 2>&1');
  return lines.join('\n');
}

/** Creates, adopts and destroys sandboxes. */
export class Sandboxes {
  constructor(private readonly d: SandboxDeps) {}

  private cniList(): NetworkList {
    const { lists, errors } = loadConfDir(this.d.cniConfDir);
    if (!lists.length) throw new Error(`no CNI network config in ${this.d.cniConfDir}${errors.length ? `: ${errors.map((e) => e.message).join('; ')}` : ''}`);
    return lists[0];
  }

  /** Creates the sandbox; undoes what it did when a step fails. */
  async create(pod: Pod, mounts: MountPlan[]): Promise<SandboxInfo> {
    const uid = pod.metadata.uid!;
    const dir = podDir(this.d.home, uid);
    mkdirSync(join(dir, 'etc'), { recursive: true });
    const hostNetwork = !!pod.spec.hostNetwork;
    const info: SandboxInfo = { uid, dir, hostNetwork, hostPID: !!pod.spec.hostPID, podIPs: [], holderPid: -1, holderStart: '', launcherPid: -1, createdDirs: [] };
    try {
      if (!hostNetwork) await this.network(pod, info);
      await this.holder(pod, info, mounts);
      writeFileSync(join(dir, 'sandbox.json'), JSON.stringify(info, null, 2));
      return info;
    } catch (e) {
      await this.destroy(info).catch(() => undefined);
      throw e;
    }
  }

  private async network(pod: Pod, info: SandboxInfo): Promise<void> {
    const os = this.d.os;
    const name = netnsName(this.d.netnsPrefix, info.uid);
    const r = await os.run('ip', ['netns', 'add', name]);
    if (r.code !== 0 && !/exists/.test(r.stderr)) throw new Error(`ip netns add ${name}: ${r.stderr.trim()}`);
    info.netns = name;
    await os.run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    if (!this.d.cniRuntime) throw new Error('no CNI runtime configured');
    const list = this.cniList();
    info.network = list.name;
    const portMappings = pod.spec.containers.flatMap((c) => (c.ports ?? []).filter((p) => p.hostPort).map((p) => ({
      hostPort: p.hostPort, containerPort: p.containerPort, protocol: (p.protocol ?? 'TCP').toLowerCase(), ...(p.hostIP ? { hostIP: p.hostIP } : {}),
    })));
    const result = await this.d.cniRuntime.add(list, {
      containerID: info.uid, netns: `/run/netns/${name}`, ifName: 'eth0',
      args: [['IgnoreUnknown', '1'], ['K8S_POD_NAMESPACE', pod.metadata.namespace ?? 'default'], ['K8S_POD_NAME', pod.metadata.name!], ['K8S_POD_INFRA_CONTAINER_ID', info.uid], ['K8S_POD_UID', info.uid]],
      ...(portMappings.length ? { capabilityArgs: { portMappings } } : {}),
    });
    info.podIPs = ((result.ips as { address: string }[] | undefined) ?? []).map((i) => i.address.split('/')[0]);
    if (!info.podIPs.length) throw new Error(`CNI ADD for network ${list.name} returned no IP`);
  }

  private async holder(pod: Pod, info: SandboxInfo, mounts: MountPlan[]): Promise<void> {
    const etcDir = join(info.dir, 'etc');
    writeFileSync(join(etcDir, 'resolv.conf'), resolvConf(pod, this.d.dns));
    writeFileSync(join(etcDir, 'hosts'), hostsFile(pod, info.podIPs, this.d.dns.clusterDomain));
    writeFileSync(join(etcDir, 'hostname'), podHostname(pod) + '\n');
    const etc = ['resolv.conf', 'hosts', 'hostname'].filter((f) => existsSync(`/etc/${f}`)).map((f) => ({ source: join(etcDir, f), target: `/etc/${f}` }));
    for (const m of mounts) {
      const missing = firstMissing(m.target);
      if (missing) {
        info.createdDirs.push(missing);
        if (statSync(m.source).isDirectory()) mkdirSync(m.target, { recursive: true });
        else {
          mkdirSync(dirname(m.target), { recursive: true });
          writeFileSync(m.target, '');
        }
      }
    }
    const flags = ['--fork', '--mount', '--propagation', 'private'];
    if (!pod.spec.hostPID) flags.push('--pid', '--mount-proc');
    if (!pod.spec.hostIPC) flags.push('--ipc');
    if (!info.hostNetwork) flags.push('--uts');
    const script = holderScript(info.hostNetwork ? undefined : podHostname(pod), etc, mounts);
    const argv = ['unshare', ...flags, '--', '/bin/sh', '-c', script];
    const cmd = info.netns ? ['nsenter', `--net=/run/netns/${info.netns}`, '--', ...argv] : argv;
    const sp = this.d.os.spawnDetached(cmd[0], cmd.slice(1), { readFirstLine: true });
    info.launcherPid = sp.pid;
    const line = await Promise.race([sp.firstLine!, new Promise<string>((_, rej) => setTimeout(() => rej(new Error('pod holder: no answer in 10 s')), 10_000).unref())]);
    if (line.trim() !== 'ok') throw new Error(`pod holder: unexpected output ${JSON.stringify(line)}`);
    const kids = this.d.os.children(sp.pid);
    if (!kids.length) throw new Error('pod holder: unshare has no child');
    info.holderPid = kids[0];
    info.holderStart = this.d.os.startTime(kids[0]);
  }

  /** A persisted sandbox whose holder still runs (same PID and start time), else undefined. */
  adopt(uid: string): SandboxInfo | undefined {
    const info = this.load(uid);
    if (!info || info.holderPid <= 0) return undefined;
    if (!this.d.os.alive(info.holderPid) || this.d.os.startTime(info.holderPid) !== info.holderStart) return undefined;
    return info;
  }

  /** The persisted record of a pod's sandbox, if any. */
  load(uid: string): SandboxInfo | undefined {
    try {
      return JSON.parse(readFileSync(join(podDir(this.d.home, uid), 'sandbox.json'), 'utf8')) as SandboxInfo;
    } catch {
      return undefined;
    }
  }

  /** UIDs with state on disk. */
  known(): string[] {
    try {
      return readdirSync(join(this.d.home, 'pods'));
    } catch {
      return [];
    }
  }

  /** Kills the holder, CNI DEL, removes the netns, mount points and the pod's state. Reports every error. */
  async destroy(info: SandboxInfo, keepState = false): Promise<void> {
    const os = this.d.os;
    const errors: string[] = [];
    if (info.holderPid > 0 && os.alive(info.holderPid) && (!info.holderStart || os.startTime(info.holderPid) === info.holderStart)) os.kill(info.holderPid, 'SIGKILL');
    if (info.launcherPid > 0 && os.alive(info.launcherPid)) os.kill(info.launcherPid, 'SIGKILL');
    if (info.netns) {
      if (this.d.cniRuntime) {
        try {
          const list = this.cniList();
          await this.d.cniRuntime.del(list, { containerID: info.uid, ifName: 'eth0', netns: `/run/netns/${info.netns}` });
        } catch (e) {
          errors.push(`CNI DEL: ${(e as Error).message}`);
        }
      }
      const r = await os.run('ip', ['netns', 'del', info.netns]);
      if (r.code !== 0 && !/No such file/.test(r.stderr)) errors.push(`ip netns del ${info.netns}: ${r.stderr.trim()}`);
    }
    for (const d of info.createdDirs) removeEmptyTree(d);
    if (!keepState) rmSync(info.dir, { recursive: true, force: true });
    if (errors.length) throw new Error(`sandbox ${info.uid}: ${errors.join('; ')}`);
  }
}

/** Removes a directory tree made only of empty directories and empty files (our mount points). */
function removeEmptyTree(p: string): void {
  try {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const n of readdirSync(p)) removeEmptyTree(join(p, n));
      rmdirSync(p);
    } else if (st.size === 0) rmSync(p);
  } catch {
    /* not empty or gone: leave it */
  }
}
