// Service VIPs as /32 local addresses on `lo` with the label `lo:<name>` (kube-proxy's IPVS mode uses a
// dummy interface, kube-ipvs0; this kernel may lack the dummy driver, and a label finds ours just as well).
// Why: a packet the host itself sends is routed before the nftables output hook runs, and the node keeps
// an `unreachable` route for the whole service CIDR. A /32 local address per programmed VIP makes the
// route lookup succeed (local table first) for exactly the VIPs that have rules, so host → ClusterIP works,
// the userspace proxy can bind to the VIP, and a VIP without a Service still fails at once.

import { firstLines, mustRun, type Runner } from '../../../lib/host/run.js';

/** Keeps the dummy interface's addresses equal to the wanted VIP set. */
export class VipInterface {
  private current = new Set<string>();

  constructor(private readonly host: Runner, readonly ifname: string) {}

  /** The address label that marks our addresses on `lo`. */
  get label(): string {
    return `lo:${this.ifname}`.slice(0, 15);
  }

  /** Drops addresses left from an earlier run. */
  async init(): Promise<void> {
    await mustRun(this.host, `flush ${this.label}`, 'ip', ['-4', 'addr', 'flush', 'dev', 'lo', 'label', this.label]);
    this.current.clear();
  }

  /** Adds and removes addresses so exactly `want` are present (one `ip -batch`). */
  async sync(want: Set<string>): Promise<void> {
    const cmds: string[] = [];
    for (const ip of want) if (!this.current.has(ip)) cmds.push(`addr replace ${ip}/32 dev lo label ${this.label}`);
    for (const ip of this.current) if (!want.has(ip)) cmds.push(`addr del ${ip}/32 dev lo`);
    if (!cmds.length) return;
    const r = await this.host.run('ip', ['-force', '-batch', '-'], { input: cmds.join('\n') + '\n' });
    if (r.code === 0) {
      // success: the kernel now holds exactly `want`; listing 10k addresses back would cost more than the change
      this.current = new Set(want);
      return;
    }
    // re-read what is there so a partial failure is repaired by the next sync
    const show = await this.host.run('ip', ['-4', '-o', 'addr', 'show', 'dev', 'lo', 'label', this.label]);
    this.current = new Set([...show.stdout.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\/32/g)].map((m) => m[1]));
    throw new Error(`VIP addresses on ${this.ifname}: ${firstLines(r.stderr, 4)}`);
  }

  /** Whether `ip` is currently configured. */
  has(ip: string): boolean {
    return this.current.has(ip);
  }

  /** Removes every address it added. */
  async remove(): Promise<void> {
    await this.host.run('ip', ['-4', 'addr', 'flush', 'dev', 'lo', 'label', this.label]);
    this.current.clear();
  }
}
