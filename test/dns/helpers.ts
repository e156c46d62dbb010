// Helpers for the DNS tests: run `dig` and parse its output, start a dnsmasq on loopback as the test
// upstream (removed by the returned close, which tests register with t.teardown).

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
export { freePort } from '../../lib/serve/serve.js';
import { freePort } from '../../lib/serve/serve.js';

const run = promisify(execFile);

/** One dig answer, parsed. Records are `name ttl class type rdata...` lines with whitespace squeezed. */
export interface Dig {
  status: string;
  flags: string[];
  answer: string[];
  authority: string[];
  additional: string[];
  raw: string;
}

/** Run dig against 127.0.0.1:port; `args` are extra dig arguments (name, type, +tcp, ...). */
export async function dig(port: number, ...args: string[]): Promise<Dig> {
  const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=3', '+nocookie', ...args]);
  return parseDig(stdout);
}

/** Parse dig's default output. */
export function parseDig(out: string): Dig {
  const d: Dig = { status: '', flags: [], answer: [], authority: [], additional: [], raw: out };
  let section: 'answer' | 'authority' | 'additional' | undefined;
  for (const line of out.split('\n')) {
    const st = /status: (\w+)/.exec(line);
    if (st) d.status = st[1];
    const fl = /;; flags: ([^;]*);/.exec(line);
    if (fl) d.flags = fl[1].trim().split(/\s+/);
    if (line.startsWith(';; ANSWER SECTION')) section = 'answer';
    else if (line.startsWith(';; AUTHORITY SECTION')) section = 'authority';
    else if (line.startsWith(';; ADDITIONAL SECTION')) section = 'additional';
    else if (line.startsWith(';;') || line.trim() === '') section = line.trim() === '' ? undefined : section;
    else if (section && !line.startsWith(';')) d[section].push(line.trim().split(/\s+/).join(' '));
  }
  return d;
}

/** A running dnsmasq serving a hosts file on 127.0.0.1. */
export interface Dnsmasq {
  port: number;
  /** the dnsmasq process (it runs in the foreground, so this is the server itself) */
  pid: number;
  /** how many queries it logged for `name` */
  queriesFor(name: string): number;
  close(): Promise<void>;
}

/** Start dnsmasq with `hosts` (lines `IP name`), no upstreams of its own, logging queries to a file (unless `logQueries: false`). */
export async function startDnsmasq(prefix: string, hosts: string, extra: string[] = [], o: { logQueries?: boolean } = {}): Promise<Dnsmasq> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, 'hosts'), hosts);
  const log = join(dir, 'log');
  const port = await freePort();
  let child: ChildProcess | undefined;
  try {
    child = spawn('dnsmasq', ['--keep-in-foreground', '--conf-file=/dev/null', `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces', '--no-resolv', '--no-hosts',
      `--addn-hosts=${join(dir, 'hosts')}`, '--local-ttl=30', ...(o.logQueries === false ? [] : ['--log-queries', `--log-facility=${log}`]), `--pid-file=${join(dir, 'pid')}`, '--user=root', ...extra], { stdio: 'ignore' });
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        await run('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=1', 'probe.invalid']);
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (e) {
    child?.kill();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const c = child;
  return {
    port,
    pid: c.pid!,
    queriesFor(name) {
      let text = '';
      try {
        text = readFileSync(log, 'utf8');
      } catch {
        return 0;
      }
      return text.split('\n').filter((l) => / query\[/.test(l) && l.includes(` ${name} from`)).length;
    },
    async close() {
      if (c.exitCode === null) {
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
