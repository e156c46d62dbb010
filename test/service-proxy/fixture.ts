// The service proxy's end-to-end fixture: the agent fixture's real API server + node agent + pods in
// netns (pod subnet 10.<octet>.X.0/24, unreachable service range 10.<octet+2>.X.0/24, inside 10.96.0.0/12),
// the endpoints controller in-process, and helpers to run a proxy with a per-test table and VIP
// interface. Everything is removed in teardown, even when a test fails.

import type { Test } from 'tap';
import { startAgentEnv, type AgentEnv, execIn, recordOwned } from '../agent/fixture.js';
import { buildControllers } from '../../control-plane/controllers/manager.js';
import { parseManagerFlags } from '../../control-plane/controllers/flags.js';
import { parseProxyFlags, tableName, vipIfname } from '../../node/service-proxy/flags.js';
import { runProxy } from '../../node/service-proxy/build.js';
import type { Proxy } from '../../node/service-proxy/proxy.js';
import { realHost } from '../../lib/host/sysctl.js';
import { holdHostForwarding } from '../host-forwarding.js';

export { rootSkip } from '../agent/fixture.js';

/** Agent env plus the controllers. */
export interface ProxyEnv extends AgentEnv {
  /** a ClusterIP in this test's unreachable service /24 */
  vip(last: number): string;
  startProxy(mode: 'nftables' | 'userspace', suffix: string): Promise<Proxy>;
}

/** Starts the cluster, node and endpoints controller (octet + 2 must stay within 96..111). */
export async function startProxyEnv(t: Test, octet: number): Promise<ProxyEnv> {
  const env = await startAgentEnv(t, octet);
  // a pod's packet to a ClusterIP DNATed to a pod on the same bridge is routed back out of it: forwarding,
  // held as `shoal up` holds it (guard on this node's bridge first), released in teardown
  holdHostForwarding(t, `shoalt-agent-${env.tag}`, [{ bridge: env.bridge, allowed: [env.subnet, env.cfg.clusterCidr, env.cfg.serviceCidr] }]);
  const { config } = parseManagerFlags(['--leader-elect=false', '--health-port', '0', '--controllers', 'endpoints'], { SHOAL_HOME: env.cluster.home });
  const ctl = buildControllers(env.cluster.client(), config!, () => undefined);
  await ctl.start();
  t.teardown(() => ctl.stop());
  const svcPrefix = env.cfg.serviceCidr.replace(/\.0\/24$/, '');
  return Object.assign(env, {
    vip: (last: number) => `${svcPrefix}.${last}`,
    async startProxy(mode: 'nftables' | 'userspace', suffix: string) {
      const { config: cfg, problems } = parseProxyFlags(['--mode', mode, '--node-name', env.cfg.nodeName, '--cluster-cidr', env.subnet,
        '--table-suffix', suffix, '--health-port', '0', '--min-sync-period', '10ms', '--kubeconfig', env.cluster.kubeconfigPath]);
      if (!cfg) throw new Error(problems.join('; '));
      // registered before start: removes the table and interface even if start fails half-way
      recordOwned(env.tag, `nft-table ${tableName(suffix)}`);
      t.teardown(async () => {
        await realHost.run('nft', ['delete', 'table', 'ip', tableName(suffix)]);
        await realHost.run('ip', ['-4', 'addr', 'flush', 'dev', 'lo', 'label', `lo:${vipIfname(suffix)}`.slice(0, 15)]);
      });
      const p = await runProxy(cfg, { client: env.cluster.client(), log: (l, m) => { if (process.env.SHOAL_DEBUG) process.stderr.write(`proxy ${l}: ${m}\n`); } });
      t.teardown(() => p.close());
      return p;
    },
  });
}

/** Node code run in a pod: `n` requests to `url`, a new connection each; prints `{pod: count}` (errors as `ERR:<code>`). */
const CALLER = `const http=require('http');const n=+process.argv[1];const url=process.argv[2];const c={};
(async()=>{for(let i=0;i<n;i++){const r=await new Promise((res)=>{const q=http.get(url,{agent:false,timeout:3000},(m)=>{let b='';m.on('data',d=>b+=d);m.on('end',()=>{try{res(JSON.parse(b).pod)}catch{res('BAD')}})});q.on('timeout',()=>q.destroy(Object.assign(new Error('t'),{code:'TIMEOUT'})));q.on('error',e=>res('ERR:'+e.code))});c[r]=(c[r]||0)+1}process.stdout.write(JSON.stringify(c))})()`;

/** Calls `url` `n` times from a pod; the answering pods with counts. */
export async function callFromPod(env: AgentEnv, pod: string, url: string, n: number): Promise<Record<string, number>> {
  const r = await execIn(env, pod, 'app', [process.execPath, '-e', CALLER, String(n), url]);
  if (r.exitCode !== 0) throw new Error(`caller in ${pod}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Calls `url` `n` times from this process (new connection each). */
export async function callFromHost(url: string, n: number): Promise<Record<string, number>> {
  const http = await import('node:http');
  const c: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const r = await new Promise<string>((res) => {
      const q = http.get(url, { agent: false, timeout: 3000 }, (m) => {
        let b = '';
        m.on('data', (d) => (b += d));
        m.on('end', () => { try { res(JSON.parse(b).pod); } catch { res('BAD'); } });
      });
      q.on('timeout', () => q.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      q.on('error', (e: any) => res(`ERR:${e.code}`));
    });
    c[r] = (c[r] ?? 0) + 1;
  }
  return c;
}
