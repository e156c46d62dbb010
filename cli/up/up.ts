// `shoal up`, `shoal down`, `shoal status`: run a local cluster in the foreground under the supervisor,
// stop it, and report each component's health. With the mesh, the summary gives the dashboard's URL, and
// for the Bookinfo sample a live line from the dashboard (dashboard/live.ts) until Ctrl-C. Today the cluster is the API server on the embedded store
// (or etcd); later capabilities add their components to `components()`.

import { parseArgs } from 'node:util';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { createServer as createNetServer } from 'node:net';
import { Agent, request } from 'undici';
import { Supervisor, type ComponentSpec, type SupervisorEvent } from './supervisor.js';
import { checkHost } from './host.js';
import { cleanupHost, installEgressGuard, type HostScope } from './cleanup.js';
import { installCni } from '../../cni/install.js';
import { tableName, vipIfname } from '../../node/service-proxy/flags.js';
import { tableName as policyTableName } from '../../node/policy/nftables/rules.js';
import { hostname } from 'node:os';
import { PATHS, PORTS, RANGES } from '../../lib/defaults/defaults.js';
import { kubeconfigYaml } from '../../control-plane/apiserver/kubeconfig.js';
import { ensurePki, ensureUserTokens } from '../../control-plane/apiserver/pki.js';
import { COMPONENT_IDENTITIES, nodeIdentity } from '../../control-plane/apiserver/identities.js';
import { freePort } from '../../lib/serve/serve.js';
import { describeSysctls, holdSysctls } from '../../node/agent/sandbox/sysctls.js';
import { DASHBOARD_PORT } from '../../dashboard/flags.js';
import { bookinfoSummary, startLiveLine } from '../../dashboard/live.js';

const distRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Settings of `shoal up`. */
export interface UpConfig {
  home: string;
  store?: string;
  port: number;
  apply: string[];
  /** the node: name, pod range, and the names of what it makes on the host */
  nodeName: string;
  podCidr: string;
  bridge: string;
  netnsPrefix: string;
  cgroupName: string;
  masquerade: boolean;
  /** the service proxy's mode */
  proxyMode: 'nftables' | 'userspace';
  /** the pod network plugin: Shoal's, or the reference bridge + host-local (for comparison) */
  cni: 'shoal' | 'reference';
  /** run the node agent (needs root); false = control plane only */
  agent: boolean;
  /** apply the system manifests (cluster DNS, ingress; `--no-dns` leaves out both) */
  systemManifests: boolean;
  /** one process per component instead of the two groups (debugging, per-component restarts) */
  splitProcesses: boolean;
  /** run mesh control (istiod-like) in the control-plane process; --no-mesh leaves it out */
  mesh: boolean;
}

const CLUSTER_CIDR = RANGES.clusterCidr;
const SERVICE_CIDR = RANGES.serviceCidr;

/** Parse `shoal up` flags; every problem is reported. */
export function parseUpFlags(argv: string[], env: NodeJS.ProcessEnv = process.env): { config?: UpConfig; problems: string[] } {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        home: { type: 'string' }, store: { type: 'string' }, port: { type: 'string' }, apply: { type: 'string', multiple: true },
        'node-name': { type: 'string' }, 'pod-cidr': { type: 'string' }, bridge: { type: 'string' }, 'netns-prefix': { type: 'string' },
        'cgroup-name': { type: 'string' }, masquerade: { type: 'boolean' }, 'no-agent': { type: 'boolean' }, cni: { type: 'string' }, 'no-dns': { type: 'boolean' }, 'split-processes': { type: 'boolean' }, 'proxy-mode': { type: 'string' },
        'no-mesh': { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (e) {
    return { problems: [(e as Error).message] };
  }
  const problems: string[] = [];
  const portText = (values.port as string | undefined) ?? String(PORTS.apiServer);
  if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) problems.push(`--port: must be an integer between 1 and 65535, got ${JSON.stringify(portText)}`);
  const apply = (values.apply as string[] | undefined) ?? [];
  for (const a of apply) if (!existsSync(a)) problems.push(`--apply: ${a}: no such file or directory`);
  const podCidr = (values['pod-cidr'] as string | undefined) ?? RANGES.podCidr;
  if (!/^10\.244\.\d{1,3}\.0\/24$/.test(podCidr)) problems.push(`--pod-cidr: must be a /24 inside the cluster range ${CLUSTER_CIDR}, like 10.244.0.0/24, got ${JSON.stringify(podCidr)}`);
  const bridge = (values.bridge as string | undefined) ?? 'shoal0';
  if (!/^[a-zA-Z0-9_-]{1,15}$/.test(bridge)) problems.push(`--bridge: an interface name of at most 15 letters, digits, '-' or '_', got ${JSON.stringify(bridge)}`);
  const netnsPrefix = (values['netns-prefix'] as string | undefined) ?? 'shoal-';
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,40}$/.test(netnsPrefix)) problems.push(`--netns-prefix: letters, digits, '.', '_' and '-' only, got ${JSON.stringify(netnsPrefix)}`);
  const cgroupName = (values['cgroup-name'] as string | undefined) ?? 'shoal';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(cgroupName)) problems.push(`--cgroup-name: letters, digits, '.', '_' and '-' only, got ${JSON.stringify(cgroupName)}`);
  const nodeName = ((values['node-name'] as string | undefined) ?? hostname()).toLowerCase();
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(nodeName)) problems.push(`--node-name: must be a DNS subdomain, got ${JSON.stringify(nodeName)}`);
  const proxyMode = (values['proxy-mode'] as string | undefined) ?? 'nftables';
  if (proxyMode !== 'nftables' && proxyMode !== 'userspace') problems.push(`--proxy-mode: must be nftables or userspace, got ${JSON.stringify(proxyMode)}`);
  const cni = (values.cni as string | undefined) ?? 'shoal';
  if (cni !== 'shoal' && cni !== 'reference') problems.push(`--cni: must be shoal or reference, got ${JSON.stringify(cni)}`);
  if (problems.length) return { problems };
  return {
    config: {
      cni: cni as UpConfig['cni'],
      systemManifests: values['no-dns'] !== true,
      splitProcesses: values['split-processes'] === true,
      mesh: values['no-mesh'] !== true,
      proxyMode: proxyMode as UpConfig['proxyMode'],
      home: (values.home as string | undefined) ?? env.SHOAL_HOME ?? PATHS.home, ...(values.store ? { store: values.store as string } : {}), port: Number(portText), apply,
      nodeName, podCidr, bridge, netnsPrefix, cgroupName, masquerade: values.masquerade === true, agent: values['no-agent'] !== true,
    },
    problems,
  };
}

function pidFile(home: string): string {
  return join(home, 'run', 'up.pid');
}

function agentFor(home: string): Agent {
  return new Agent({ connect: { ca: ensurePki(home).caCertPem } });
}

/** Health ports: Kubernetes' defaults for the default API port, free ones otherwise (side-by-side runs). */
async function healthPorts(c: UpConfig): Promise<Ports> {
  if (c.port === PORTS.apiServer) {
    return { controllers: PORTS.controllerManagerHealth, scheduler: PORTS.schedulerHealth, agent: PORTS.agent, proxy: PORTS.serviceProxyHealth, policy: PORTS.policyHealth, meshGrpc: PORTS.meshGrpc, meshDebug: PORTS.meshDebug,
      // Kiali's port when it is free; the dashboard is for people, so another port beats not starting
      dashboard: (await portFree(DASHBOARD_PORT)) ? DASHBOARD_PORT : await freePort() };
  }
  return { controllers: await freePort(), scheduler: await freePort(), agent: await freePort(), proxy: await freePort(), policy: await freePort(), meshGrpc: await freePort(), meshDebug: await freePort(), dashboard: await freePort() };
}

/** Whether 127.0.0.1:`port` can be listened on now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createNetServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

interface Ports {
  controllers: number;
  scheduler: number;
  agent: number;
  proxy: number;
  policy: number;
  /** mesh control: gRPC (discovery + CA) and monitoring (/ready, /debug/syncz) */
  meshGrpc: number;
  meshDebug: number;
  /** the dashboard (dashboard/): the service graph from the sidecars' metrics, on 127.0.0.1 */
  dashboard: number;
}

/** Where this cluster's CNI plugins and config live: the standard dirs for the default state dir. */
function cniDirs(c: UpConfig): { bin: string; conf: string; socket: string } {
  const standard = c.home === PATHS.home;
  return {
    bin: standard ? PATHS.cniBinDir : join(c.home, 'cni', 'bin'),
    conf: standard ? PATHS.cniConfDir : join(c.home, 'cni', 'net.d'),
    socket: join(c.home, 'run', 'cni.sock'),
  };
}

/** The service proxy's table suffix: none for the standard bridge, else the bridge name (side-by-side runs). */
function proxySuffix(c: Pick<UpConfig, 'bridge'>): string {
  return c.bridge === 'shoal0' ? '' : c.bridge.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 11);
}

/** The gateway (first address) of a pod /24: the bridge's address on the node. */
function gatewayOf(podCidr: string): string {
  return podCidr.replace(/\.0\/24$/, '.1');
}

/** System manifests applied once the node is ready (cluster DNS). */
const SYSTEM_MANIFESTS = join(distRoot, '..', 'control-plane', 'manifests');

/** The reference plugins' conflist (Debian's containernetworking-plugins), for side-by-side comparisons. */
function referenceConflist(c: UpConfig): string {
  return JSON.stringify({
    cniVersion: '1.0.0', name: c.bridge,
    plugins: [
      { type: 'bridge', bridge: c.bridge, isGateway: true, isDefaultGateway: true, hairpinMode: true, ipMasq: c.masquerade, ipam: { type: 'host-local', ranges: [[{ subnet: c.podCidr }]] } },
      { type: 'portmap', snat: true, capabilities: { portMappings: true } },
    ],
  }, null, 2) + '\n';
}

/** What the node makes on the host, for cleanup. */
export function hostScope(c: Pick<UpConfig, 'home' | 'netnsPrefix' | 'bridge' | 'cgroupName' | 'nodeName'>): HostScope {
  return {
    netnsPrefix: c.netnsPrefix, bridge: c.bridge, cgroupName: c.cgroupName,
    proxyTable: tableName(proxySuffix(c)), policyTable: policyTableName(proxySuffix(c)), proxyVipLabel: `lo:${vipIfname(proxySuffix(c))}`.slice(0, 15),
    routes: [SERVICE_CIDR, CLUSTER_CIDR], routeHolder: `${c.nodeName}.${c.netnsPrefix}`, // as the agent holds them
    // node name and bridge: two clusters on one host may share a node name, never a bridge
    sysctlHolder: `${c.nodeName}.${c.bridge}`,
    dirs: [join(c.home, 'pods'), join(c.home, 'cni', 'results'), `/var/lib/cni/networks/${c.bridge}`],
  };
}

const httpOk = async (url: string) => {
  const r = await request(url);
  await r.body.dump();
  return r.statusCode === 200;
};

/**
 * Each component's own kubeconfig (`<home>/kubeconfigs/<component>.kubeconfig`) with its own token, so the
 * API server's RBAC gives it only its role (control-plane/apiserver/identities.ts); written before the API
 * server starts, since it reads the token file once.
 */
function componentKubeconfigs(c: UpConfig): (component: string) => string {
  const users = { ...COMPONENT_IDENTITIES, 'node-agent': nodeIdentity(c.nodeName) };
  const tokens = ensureUserTokens(c.home, Object.values(users));
  const dir = join(c.home, 'kubeconfigs');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [component, u] of Object.entries(users))
    writeFileSync(join(dir, `${component}.kubeconfig`), kubeconfigYaml({ home: c.home, server: `https://127.0.0.1:${c.port}`, user: u.name, token: tokens.get(u.name) }), { mode: 0o600 });
  return (component) => join(dir, `${component}.kubeconfig`);
}

/** The components of the cluster, in start order. */
function components(c: UpConfig, agent: Agent, kubeconfigFor: (component: string) => string, ports: Ports): ComponentSpec[] {
  const url = `https://127.0.0.1:${c.port}`;
  const env = { ...process.env, SHOAL_HOME: c.home };
  const cni = cniDirs(c);
  const nodeAgent: ComponentSpec[] = !c.agent ? [] : [{
    name: 'node-agent',
    command: process.execPath,
    args: [
      join(distRoot, 'node', 'agent', 'main.js'), '--kubeconfig', kubeconfigFor('node-agent'), '--home', c.home, '--node-name', c.nodeName, '--node-ip', '127.0.0.1',
      '--cni-conf-dir', cni.conf, '--cni-bin-dir', `${cni.bin},/usr/lib/cni`, '--cni-socket', cni.socket, '--pod-cidr', c.podCidr,
      '--cluster-cidr', CLUSTER_CIDR, '--service-cidr', SERVICE_CIDR, '--netns-prefix', c.netnsPrefix, '--cgroup-name', c.cgroupName,
      '--port', String(ports.agent), '--bind-address', '127.0.0.1', '--cleanup-on-exit', 'true',
    ],
    env,
    ready: () => httpOk(`http://127.0.0.1:${ports.agent}/healthz`),
    stopGraceMs: 45_000, // it stops every pod (each with its grace period) before it exits
  }, {
    name: 'service-proxy',
    command: process.execPath,
    args: [
      join(distRoot, 'node', 'service-proxy', 'main.js'), '--kubeconfig', kubeconfigFor('service-proxy'), '--node-name', c.nodeName, '--cluster-cidr', CLUSTER_CIDR,
      '--service-cidr', SERVICE_CIDR, '--health-port', String(ports.proxy), '--bind-address', '127.0.0.1', '--table-suffix', proxySuffix(c),
      // ClusterIPs only for this node's pods: side-by-side clusters share the service range
      '--pod-bridge-interface', c.bridge,
      ...(c.proxyMode === 'userspace' ? ['--mode', 'userspace'] : []),
    ],
    env,
    ready: () => httpOk(`http://127.0.0.1:${ports.proxy}/healthz`),
  }, {
    name: 'network-policy',
    command: process.execPath,
    // the table stays if the enforcer dies (fail closed); `shoal down` removes it with the rest of the node
    args: [
      join(distRoot, 'node', 'policy', 'main.js'), '--kubeconfig', kubeconfigFor('network-policy'), '--node-name', c.nodeName, '--table-suffix', proxySuffix(c),
      '--health-port', String(ports.policy), '--bind-address', '127.0.0.1',
    ],
    env,
    ready: () => httpOk(`http://127.0.0.1:${ports.policy}/healthz`),
  }];
  return [
    {
      name: 'apiserver',
      command: process.execPath,
      args: [join(distRoot, 'control-plane', 'apiserver', 'main.js'), '--home', c.home, '--secure-port', String(c.port), ...(c.store ? ['--store', c.store] : [])],
      ready: async () => (await request(`${url}/readyz`, { dispatcher: agent })).statusCode === 200,
      readyTimeoutMs: 30_000,
    },
    {
      name: 'controller-manager',
      command: process.execPath,
      // the `kubernetes` Service's endpoint is the node's bridge gateway, where pods reach the API server
      args: [
        join(distRoot, 'control-plane', 'controllers', 'main.js'), '--kubeconfig', kubeconfigFor('controller-manager'), '--api-server-url', url,
        ...(c.agent ? ['--api-advertise-address', gatewayOf(c.podCidr)] : []), '--health-port', String(ports.controllers), '--bind-address', '127.0.0.1',
      ],
      env,
      ready: () => httpOk(`http://127.0.0.1:${ports.controllers}/healthz`),
    },
    {
      name: 'scheduler',
      command: process.execPath,
      args: [join(distRoot, 'control-plane', 'scheduler', 'main.js'), '--kubeconfig', kubeconfigFor('scheduler'), '--health-port', String(ports.scheduler), '--bind-address', '127.0.0.1'],
      env,
      ready: () => httpOk(`http://127.0.0.1:${ports.scheduler}/healthz`),
    },
    // mesh control: pods reach it through the istiod Service at the node's bridge gateway
    ...(!c.mesh ? [] : [{
      name: 'mesh-control',
      command: process.execPath,
      args: [
        join(distRoot, 'control-plane', 'mesh', 'main.js'), '--kubeconfig', kubeconfigFor('mesh-control'), '--home', c.home, '--grpc-port', String(ports.meshGrpc),
        '--debug-port', String(ports.meshDebug), ...(c.agent ? ['--advertise-address', gatewayOf(c.podCidr)] : ['--bind-address', '127.0.0.1']),
      ],
      env,
      ready: () => httpOk(`http://127.0.0.1:${ports.meshDebug}/ready`),
    }, {
      // the mesh's dashboard: scrapes every sidecar (pod IPs are on the node's bridge), serves the graph
      name: 'dashboard',
      command: process.execPath,
      args: [join(distRoot, 'dashboard', 'main.js'), '--kubeconfig', kubeconfigFor('dashboard'), '--port', String(ports.dashboard), '--bind-address', '127.0.0.1'],
      env,
      ready: () => httpOk(`http://127.0.0.1:${ports.dashboard}/healthz`),
    }]),
    ...nodeAgent,
  ];
}

/**
 * Node flags of every component process: a 2 MB young generation instead of 16 MB per semi-space. Measured
 * (`bench/pods/deploy.js 50`): control plane + node RSS 270 → 230 MB, pod startup unchanged; API server
 * creates/s unchanged (`bench/apiserver/run.js`, 1013 vs 991), a 5000-pod list 102 → 118 ms.
 */
const V8_FLAGS = ['--max-semi-space-size=2'];

/** The processes `shoal up` runs by default: the control plane in one, the node's components in another. */
const GROUPS: [string, string[]][] = [
  ['control-plane', ['apiserver', 'controller-manager', 'scheduler', 'mesh-control', 'dashboard']],
  ['node', ['node-agent', 'service-proxy', 'network-policy']],
];

/**
 * Merges per-component specs into group processes (cli/up/group.ts): one Node process per group instead
 * of one per component, ~60 MB each saved. Ready when every member is; the longest grace period wins.
 */
export function groupSpecs(specs: ComponentSpec[]): ComponentSpec[] {
  const out: ComponentSpec[] = [];
  for (const [name, names] of GROUPS) {
    const members = names.map((n) => specs.find((s) => s.name === n)).filter((s): s is ComponentSpec => !!s);
    if (!members.length) continue;
    out.push({
      name,
      command: process.execPath,
      // each member's args start with its main.js; the group takes its name instead
      args: [join(distRoot, 'cli', 'up', 'group-main.js'), ...members.flatMap((m, i) => [...(i ? ['---'] : []), m.name, ...m.args.slice(1)])],
      env: Object.assign({}, ...members.map((m) => m.env ?? process.env)) as NodeJS.ProcessEnv,
      ready: async () => (await Promise.all(members.map((m) => m.ready()))).every(Boolean),
      readyTimeoutMs: Math.max(...members.map((m) => m.readyTimeoutMs ?? 30_000)),
      stopGraceMs: Math.max(...members.map((m) => m.stopGraceMs ?? 0)) || undefined,
      members: members.map((m) => m.name),
    });
  }
  return out;
}

function report(e: SupervisorEvent, out: NodeJS.WritableStream): void {
  if (e.type === 'starting') out.write(`  … starting ${e.name}\n`);
  else if (e.type === 'ready' && e.members) for (const m of e.members) out.write(`  ✔ ${m} ready in ${(e.ms / 1000).toFixed(1)}s (pid ${e.pid}, process ${e.name})\n`);
  else if (e.type === 'ready') out.write(`  ✔ ${e.name} ready in ${(e.ms / 1000).toFixed(1)}s (pid ${e.pid})\n`);
  else if (e.type === 'exited') out.write(`  ✖ ${e.name} exited (${e.signal ?? `code ${e.code}`}); restarting in ${e.restartInMs / 1000}s\n`);
  else out.write(`  ■ ${e.name} stopped\n`);
}

/** `shoal up`: start, apply, print how to reach the cluster, run until SIGINT/SIGTERM. */
export async function runUp(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const { config: c, problems } = parseUpFlags(argv);
  if (!c) {
    for (const p of problems) err.write(`shoal up: ${p}\n`);
    return 64;
  }
  mkdirSync(join(c.home, 'run'), { recursive: true });
  const pf = pidFile(c.home);
  if (existsSync(pf)) {
    const pid = Number(readFileSync(pf, 'utf8'));
    if (pid && isAlive(pid)) {
      err.write(`shoal up: a cluster is already running from ${c.home} (pid ${pid}); run 'shoal down' first\n`);
      return 1;
    }
  }
  writeFileSync(pf, String(process.pid));
  out.write(`Starting Shoal in ${c.home}\n`);
  if (c.agent) {
    const host = checkHost((l) => out.write(`${l}\n`));
    if (!host.root) {
      out.write('  ! not running as root: starting the control plane only (pods need root for network namespaces)\n');
      c.agent = false;
    } else if (host.instruction) {
      err.write(`shoal up: missing on this host: ${host.missing.join(', ')}\n  run: ${host.instruction}\n`);
      rmSync(pf, { force: true });
      return 1;
    }
  }
  ensurePki(c.home);
  const agent = agentFor(c.home);
  const sup = new Supervisor(join(c.home, 'logs'), (e) => report(e, out));
  let code = 0;
  let stopLive = (): void => {};
  const stop = new Promise<void>((res) => {
    process.once('SIGINT', res);
    process.once('SIGTERM', res);
  });
  try {
    const kubeconfig = join(c.home, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml({ home: c.home, server: `https://127.0.0.1:${c.port}` }), { mode: 0o600 });
    const ports = await healthPorts(c);
    writeFileSync(join(c.home, 'run', 'ports.json'), JSON.stringify({ apiserver: c.port, ...ports, ...(c.agent ? {} : { agent: 0 }), ...(c.mesh ? {} : { meshGrpc: 0, meshDebug: 0, dashboard: 0 }) }));
    writeFileSync(join(c.home, 'run', 'scope.json'), JSON.stringify(hostScope(c)));
    if (c.agent) {
      const cni = cniDirs(c);
      installCni({ binDir: cni.bin, confDir: cni.conf, bridge: c.bridge, network: c.bridge, subnet: c.podCidr, ipMasq: c.masquerade, socket: cni.socket });
      if (c.cni === 'reference') writeFileSync(join(cni.conf, '10-shoal.conflist'), referenceConflist(c));
      if (!c.masquerade) {
        const e = installEgressGuard(c.bridge, [CLUSTER_CIDR, SERVICE_CIDR]);
        if (e) throw new Error(`could not install the pod egress guard: ${e}`);
      }
      out.write(`  ✔ CNI plugins in ${cni.bin}, config in ${cni.conf}${c.cni === 'reference' ? ' (reference bridge + host-local)' : ''}\n`);
      // only now that the guard keeps pod traffic on the machine may the host forward it
      try {
        out.write(`  ✔ host: ${describeSysctls(holdSysctls(hostScope(c).sysctlHolder!))} (restored when the last cluster on this host stops)\n`);
      } catch (e) {
        throw new Error(`could not set the host settings the node needs: ${(e as Error).message}`);
      }
    }
    const specs = components(c, agent, componentKubeconfigs(c), ports);
    for (const spec of c.splitProcesses ? specs : groupSpecs(specs)) await sup.start({ ...spec, args: [...V8_FLAGS, ...spec.args] });
    if (c.agent && c.systemManifests) {
      out.write('  … applying the system manifests (cluster DNS, ingress)\n');
      if ((await runCli(['apply', '-R', '-f', SYSTEM_MANIFESTS, '--kubeconfig', kubeconfig], out, err)) !== 0) err.write('shoal up: applying the system manifests failed\n');
    }
    for (const dir of c.apply) {
      out.write(`  … applying ${dir}\n`);
      const rc = await runCli(['apply', '-R', '-f', dir, '--kubeconfig', kubeconfig], out, err);
      if (rc !== 0) {
        err.write(`shoal up: applying ${dir} failed\n`);
        code = 1;
      }
    }
    out.write(`\nThe cluster is up. Reach it with:\n  export KUBECONFIG=${kubeconfig}\n  shoal get all -A        (or kubectl get all -A)\nStop it with Ctrl-C or 'shoal down --home ${c.home}'. Logs: ${join(c.home, 'logs')}\n`);
    const dashboardUrl = `http://127.0.0.1:${ports.dashboard}/`;
    if (c.mesh) out.write(`The mesh's dashboard (service graph, routes, policies, certificates): ${dashboardUrl}\n`);
    // Bookinfo: the product page, what to try, and a live line with reviews' split from the dashboard
    if (c.mesh && c.apply.some((d) => basename(resolve(d)) === 'bookinfo')) {
      out.write(bookinfoSummary(dashboardUrl, kubeconfig));
      stopLive = startLiveLine({ dashboardUrl, service: 'reviews.bookinfo', out, tty: (out as { isTTY?: boolean }).isTTY === true });
    }
    await stop;
    stopLive();
    out.write('\nStopping…\n');
  } catch (e) {
    err.write(`shoal up: ${(e as Error).message}\n`);
    code = 1;
  } finally {
    stopLive();
    await sup.stopAll();
    if (c.agent) for (const e of cleanupHost(hostScope(c), (l) => out.write(`  ✔ ${l}\n`))) err.write(`shoal up: cleanup: ${e}\n`);
    rmSync(join(c.home, 'run', 'scope.json'), { force: true });
    await agent.close();
    rmSync(pf, { force: true });
    rmSync(join(c.home, 'run', 'ports.json'), { force: true });
  }
  return code;
}

function runCli(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [join(distRoot, 'cli', 'main.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => out.write(`    ${String(d).trimEnd().replace(/\n/g, '\n    ')}\n`));
    child.stderr.on('data', (d) => err.write(d));
    child.on('exit', (code) => res(code ?? 1));
  });
}

/** Whether `pid` runs; a zombie (exited, not yet reaped by its parent) counts as stopped. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** `shoal down`: stop the cluster started by `shoal up` from this state dir, by its recorded PID. */
export async function runDown(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { home: { type: 'string' } }, strict: true });
  const home = (values.home as string | undefined) ?? process.env.SHOAL_HOME ?? PATHS.home;
  const pf = pidFile(home);
  if (!existsSync(pf)) {
    out.write(`No cluster is running from ${home}.\n`);
    return 0;
  }
  const pid = Number(readFileSync(pf, 'utf8'));
  const cmdline = existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
  if (!pid || !cmdline.includes('up')) {
    rmSync(pf, { force: true });
    cleanupLeftovers(home, err);
    out.write(`No cluster is running from ${home} (stale pid file removed, host state cleaned).\n`);
    return 0;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) {
    err.write(`shoal down: pid ${pid} did not stop in 30s\n`);
    return 1;
  }
  cleanupLeftovers(home, err);
  out.write(`Stopped the cluster in ${home}.\n`);
  return 0;
}

/** After `up` is gone: remove what its node may have left (a crash, a kill -9). */
function cleanupLeftovers(home: string, err: NodeJS.WritableStream): void {
  const f = join(home, 'run', 'scope.json');
  if (!existsSync(f)) return;
  for (const e of cleanupHost(JSON.parse(readFileSync(f, 'utf8')) as HostScope, (l) => err.write(`shoal down: ${l}\n`))) err.write(`shoal down: cleanup: ${e}\n`);
  rmSync(f, { force: true });
}

/** `shoal status`: each component's health. */
export async function runStatus(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { home: { type: 'string' }, port: { type: 'string' } }, strict: true });
  const home = (values.home as string | undefined) ?? process.env.SHOAL_HOME ?? PATHS.home;
  const port = Number((values.port as string | undefined) ?? String(PORTS.apiServer));
  if (!existsSync(join(home, 'pki', 'ca.crt'))) {
    out.write(`No cluster state in ${home}.\n`);
    return 1;
  }
  const agent = agentFor(home);
  let healthy = true;
  const pf = join(home, 'run', 'ports.json');
  const ports = existsSync(pf) ? (JSON.parse(readFileSync(pf, 'utf8')) as Record<string, number>) : {};
  const checks: [string, string][] = [['apiserver', `https://127.0.0.1:${port}/readyz`]];
  if (ports.controllers) checks.push(['controller-manager', `http://127.0.0.1:${ports.controllers}/healthz`]);
  if (ports.scheduler) checks.push(['scheduler', `http://127.0.0.1:${ports.scheduler}/healthz`]);
  if (ports.agent) checks.push(['node-agent', `http://127.0.0.1:${ports.agent}/healthz`]);
  if (ports.agent && ports.proxy) checks.push(['service-proxy', `http://127.0.0.1:${ports.proxy}/healthz`]);
  if (ports.agent && ports.policy) checks.push(['network-policy', `http://127.0.0.1:${ports.policy}/healthz`]);
  if (ports.meshDebug) checks.push(['mesh-control', `http://127.0.0.1:${ports.meshDebug}/ready`]);
  if (ports.dashboard) checks.push(['dashboard', `http://127.0.0.1:${ports.dashboard}/healthz`]);
  for (const [name, target] of checks) {
    let state: string;
    try {
      const r = await request(target, { dispatcher: agent, headersTimeout: 3000 });
      state = r.statusCode === 200 ? 'ok' : `unhealthy (${r.statusCode})`;
      await r.body.dump();
    } catch (e) {
      state = `down (${(e as Error).message})`;
    }
    if (state !== 'ok') healthy = false;
    out.write(`${name.padEnd(20)} ${state}\n`);
  }
  await agent.close();
  return healthy ? 0 : 1;
}
