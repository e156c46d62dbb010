// Userspace mode (`--mode userspace`, for hosts without nftables): the proxy itself accepts on every
// ClusterIP:port (TCP and UDP; the VIPs are local addresses on the proxy's dummy interface) and on
// NodePorts, and relays each connection or datagram flow to an endpoint picked round robin. A port
// without ready endpoints is not listened on, so the kernel refuses connections at once.

import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Backend } from '../backend.js';
import type { VipInterface } from '../host/vips.js';
import type { ServicePort } from '../model/servicemap.js';
import { RoundRobin } from './balancer.js';

/** One listener (TCP server or UDP socket) on one address:port. */
interface Listener {
  key: string;
  close(): void;
}

/** Per service port: its balancer and listeners. */
interface PortState {
  rr: RoundRobin;
  listeners: Map<string, Listener>;
}

/** Settings. */
export interface UserspaceOptions {
  nodeName: string;
  /** where NodePorts listen, '0.0.0.0' by default */
  nodePortAddress: string;
  /** idle time after which a UDP flow's upstream socket is closed */
  udpIdleMs: number;
  log(level: 'info' | 'warn' | 'error', msg: string): void;
}

/** userspace mode. */
export class UserspaceProxier implements Backend {
  private readonly ports = new Map<string, PortState>();
  /** connections relayed per endpoint `ip:port` (tests, debugging) */
  readonly relayed = new Map<string, number>();

  constructor(private readonly o: UserspaceOptions, private readonly vips: VipInterface) {}

  async init(): Promise<void> {
    if (this.ports.size === 0) await this.vips.init();
  }

  async sync(desired: Map<string, ServicePort[]>): Promise<void> {
    const want = new Set<string>();
    for (const ports of desired.values()) for (const sp of ports) if (sp.endpoints.length) for (const ip of sp.clusterIPs) want.add(ip);
    // addresses first: a listener cannot bind before its VIP exists
    await this.vips.sync(new Set([...want, ...[...desired.values()].flatMap((ps) => ps.flatMap((p) => p.clusterIPs))]));
    const seen = new Set<string>();
    const errors: string[] = [];
    for (const ports of desired.values()) {
      for (const sp of ports) {
        seen.add(sp.id);
        const st = this.ports.get(sp.id) ?? { rr: new RoundRobin(), listeners: new Map() };
        this.ports.set(sp.id, st);
        st.rr.update(sp, this.o.nodeName);
        const addrs = st.rr.size ? [...sp.clusterIPs.map((ip) => [ip, sp.port] as const), ...(sp.nodePort ? [[this.o.nodePortAddress, sp.nodePort] as const] : [])] : [];
        const keys = new Set(addrs.map(([a, p]) => `${sp.protocol}/${a}:${p}`));
        for (const [k, l] of st.listeners) if (!keys.has(k)) {
          l.close();
          st.listeners.delete(k);
        }
        for (const [a, p] of addrs) {
          const k = `${sp.protocol}/${a}:${p}`;
          if (st.listeners.has(k)) continue;
          try {
            st.listeners.set(k, sp.protocol === 'UDP' ? await this.udp(k, a, p, st) : await this.tcp(k, a, p, st));
          } catch (e) {
            errors.push(`${sp.id} ${k}: ${(e as Error).message}`);
          }
        }
      }
    }
    for (const [id, st] of this.ports) if (!seen.has(id)) {
      for (const l of st.listeners.values()) l.close();
      this.ports.delete(id);
    }
    if (errors.length) throw new Error(`userspace listeners: ${errors.join('; ')}`);
  }

  private count(ep: string): void {
    this.relayed.set(ep, (this.relayed.get(ep) ?? 0) + 1);
  }

  private tcp(key: string, addr: string, port: number, st: PortState): Promise<Listener> {
    const server: Server = createServer({ pauseOnConnect: true }, (client) => this.relayTcp(client, st, new Set()));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: addr, port }, () => {
        server.off('error', reject);
        server.on('error', (e) => this.o.log('warn', `${key}: ${e.message}`));
        resolve({ key, close: () => server.close() });
      });
    });
  }

  /** Connects to an endpoint (the next one if it fails) and pipes both ways. */
  private relayTcp(client: Socket, st: PortState, failed: Set<string>): void {
    const ep = st.rr.pick(client.remoteAddress ?? '', failed);
    if (!ep) {
      client.destroy();
      return;
    }
    const name = `${ep.ip}:${ep.port}`;
    const up = connect({ host: ep.ip, port: ep.port });
    up.setNoDelay(true);
    client.setNoDelay(true);
    up.once('error', () => {
      if (!up.readyState || up.connecting) {
        failed.add(name);
        this.relayTcp(client, st, failed);
      } else client.destroy();
    });
    up.once('connect', () => {
      this.count(name);
      up.on('error', () => client.destroy());
      client.on('error', () => up.destroy());
      client.pipe(up);
      up.pipe(client);
      client.resume();
    });
  }

  private udp(key: string, addr: string, port: number, st: PortState): Promise<Listener> {
    const sock: UdpSocket = createSocket('udp4');
    const flows = new Map<string, { up: UdpSocket; timer: NodeJS.Timeout }>();
    sock.on('message', (msg, rinfo) => {
      const ck = `${rinfo.address}:${rinfo.port}`;
      let f = flows.get(ck);
      if (!f) {
        const ep = st.rr.pick(rinfo.address);
        if (!ep) return;
        this.count(`${ep.ip}:${ep.port}`);
        const up = createSocket('udp4');
        up.on('message', (reply) => sock.send(reply, rinfo.port, rinfo.address));
        up.on('error', () => undefined);
        up.connect(ep.port, ep.ip);
        f = { up, timer: setTimeout(() => undefined, 0) };
        flows.set(ck, f);
        const flow = f;
        up.once('connect', () => {
          up.send(msg);
          flow.timer = this.idle(flows, ck);
        });
        return;
      }
      clearTimeout(f.timer);
      f.timer = this.idle(flows, ck);
      f.up.send(msg);
    });
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(port, addr, () => {
        sock.off('error', reject);
        resolve({
          key, close: () => {
            for (const f of flows.values()) {
              clearTimeout(f.timer);
              f.up.close();
            }
            sock.close();
          },
        });
      });
    });
  }

  private idle(flows: Map<string, { up: UdpSocket; timer: NodeJS.Timeout }>, ck: string): NodeJS.Timeout {
    const t = setTimeout(() => {
      flows.get(ck)?.up.close();
      flows.delete(ck);
    }, this.o.udpIdleMs);
    t.unref();
    return t;
  }

  async close(): Promise<void> {
    for (const st of this.ports.values()) for (const l of st.listeners.values()) l.close();
    this.ports.clear();
    await this.vips.remove();
  }
}
