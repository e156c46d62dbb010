// The kernel seam of shoal-bridge. All link, address and route work goes through `ip -batch -` (one
// process per namespace per command, instead of one per operation); work inside a pod's namespace
// runs as `nsenter --net=<path> ip ...`, which accepts any netns path (/proc/<pid>/ns/net included)
// and, unlike `ip -n`, does not remount /sys. Masquerade rules go through `nft -f -`.
// Commands run through lib/host's runner (one failure rule: a tool that cannot start is code 127, and
// so a KernelError like any other failure). FakeKernel records what would run, for unit tests.

import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { inNetns, realRunner } from '../../lib/host/run.js';
import { CniCode, CniError } from '../spec/errors.js';

/** The kernel operations the bridge plugin needs. */
export interface Kernel {
  /** Runs `ip` batch lines on the host (netns undefined) or inside the namespace at `netns`. */
  ipBatch(lines: string[], netns?: string): Promise<void>;
  /** Runs one `ip -j` query and parses its JSON output. */
  ipJson(args: string[], netns?: string): Promise<any[]>;
  /** Applies an nft script (`nft -f -`). */
  nft(script: string, netns?: string): Promise<void>;
  /** Reads a host link: undefined when it does not exist. */
  hostLink(name: string): { mac: string; isBridge: boolean; master: string | undefined } | undefined;
  /** Whether a network namespace path exists. */
  netnsExists(path: string): boolean;
}

/** A failed kernel command: code 100 with the tool's own message and the failing batch line. */
export class KernelError extends CniError {
  constructor(
    readonly stderr: string,
    what: string,
    /** The 0-based batch line that failed, or -1 when unknown. */
    readonly line = -1,
  ) {
    super(CniCode.KernelFailure, `${what}: ${stderr.trim().replace(/\s*\n\s*/g, '; ')}`);
  }
}

/** The real kernel, through ip, nsenter and nft. */
export const realKernel: Kernel = {
  async ipBatch(lines, netns) {
    if (!lines.length) return;
    const [cmd, args] = inNetns(netns, 'ip', ['-batch', '-']);
    const r = await realRunner.run(cmd, args, { input: lines.join('\n') + '\n' });
    if (r.code !== 0) {
      const m = /Command failed -:(\d+)/.exec(r.stderr);
      const line = m ? lines[Number(m[1]) - 1] : lines.join('; ');
      throw new KernelError(r.stderr.replace(/Command failed -:\d+/, ''), `ip ${line}${netns ? ` (in ${netns})` : ''}`, m ? Number(m[1]) - 1 : -1);
    }
  },
  async ipJson(q, netns) {
    const [cmd, args] = inNetns(netns, 'ip', ['-j', ...q]);
    const r = await realRunner.run(cmd, args);
    if (r.code !== 0) throw new KernelError(r.stderr, `ip ${q.join(' ')}`);
    return r.stdout.trim() ? (JSON.parse(r.stdout) as any[]) : [];
  },
  async nft(script, netns) {
    const [cmd, args] = inNetns(netns, 'nft', ['-f', '-']);
    const r = await realRunner.run(cmd, args, { input: script });
    if (r.code !== 0) throw new KernelError(r.stderr, 'nft');
  },
  hostLink(name) {
    const dir = `/sys/class/net/${name}`;
    try {
      const mac = readFileSync(`${dir}/address`, 'utf8').trim();
      let master: string | undefined;
      try {
        master = basename(readlinkSync(`${dir}/master`));
      } catch {
        master = undefined;
      }
      return { mac, isBridge: existsSync(`${dir}/bridge`), master };
    } catch {
      return undefined;
    }
  },
  netnsExists(path) {
    return existsSync(path);
  },
};

/** Records batches instead of running them; `fail` makes matching lines fail. */
export class FakeKernel implements Kernel {
  readonly calls: { netns: string | undefined; lines: string[] }[] = [];
  readonly nftScripts: string[] = [];
  readonly links = new Map<string, { mac: string; isBridge: boolean; master: string | undefined }>();
  netnsPresent = true;
  fail: RegExp | undefined;
  jsonReplies = new Map<string, any[]>();

  async ipBatch(lines: string[], netns?: string): Promise<void> {
    this.calls.push({ netns, lines });
    const bad = this.fail ? lines.findIndex((l) => this.fail!.test(l)) : -1;
    if (bad >= 0) throw new KernelError('RTNETLINK answers: File exists', `ip ${lines[bad]}`, bad);
  }
  async ipJson(args: string[]): Promise<any[]> {
    return this.jsonReplies.get(args.join(' ')) ?? [];
  }
  async nft(script: string): Promise<void> {
    this.nftScripts.push(script);
  }
  hostLink(name: string) {
    return this.links.get(name);
  }
  netnsExists(): boolean {
    return this.netnsPresent;
  }
}
