// shoal/agnhost — the test image of the NetworkPolicy e2e, after upstream Kubernetes' agnhost. Two modes:
//   serve [--tcp-ports 80,81] [--udp-ports 80,81]   (the default): like agnhost `serve-hostname`/`porter`,
//       every TCP connection gets "<hostname>\n" and is closed; every UDP datagram is answered with it.
//   probe [--timeout-ms 1000] '<json>'               (or the JSON on stdin): targets
//       [{"host": "a.x.svc.cluster.local", "protocol": "TCP"|"UDP", "port": 80}, …] probed all in parallel;
//       prints one JSON array, in target order: {host, protocol, port, ok, ip?, reply?, error?, ms}.
// Names resolve with dns.lookup (the pod's /etc/resolv.conf), once per distinct host, retried within the
// bound. Every probe is bounded by the timeout (lookup included), and the process by twice that. Plain JavaScript, no dependencies.
import { createServer, connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { Buffer } from 'node:buffer';
import { setTimeout, clearTimeout, setInterval, clearInterval } from 'node:timers';

const [mode = 'serve', ...rest] = process.argv.slice(2);

/** `--name value` flags and the positionals, from argv. */
function flags(argv) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--')) out[argv[i].slice(2)] = argv[++i];
    else out._.push(argv[i]);
  }
  return out;
}

/** "80,81" → [80, 81]; exits 64 naming the flag when a port is bad. */
function ports(flag, text) {
  const list = String(text).split(',').filter(Boolean).map(Number);
  for (const p of list) {
    if (!Number.isInteger(p) || p < 0 || p > 65535) {
      process.stderr.write(`agnhost: --${flag}: not a port list: ${JSON.stringify(text)}\n`);
      process.exit(64);
    }
  }
  return list;
}

// ---------------------------------------------------------------------------------------------------
// serve

function serve(f) {
  const name = hostname();
  const reply = Buffer.from(`${name}\n`);
  const tcp = ports('tcp-ports', f['tcp-ports'] ?? '80,81');
  const udp = ports('udp-ports', f['udp-ports'] ?? '80,81');
  const closers = [];
  for (const port of tcp) {
    const s = createServer((c) => {
      c.on('error', () => undefined); // a prober that gave up
      c.end(reply);
    });
    s.listen(port, () => console.log(`agnhost ${name} serving TCP :${s.address().port}`));
    closers.push(() => s.close());
  }
  for (const port of udp) {
    const s = createSocket('udp4');
    s.on('message', (_m, from) => s.send(reply, from.port, from.address));
    s.on('error', (e) => console.error(`agnhost: UDP :${port}: ${e.message}`));
    s.bind(port, () => console.log(`agnhost ${name} serving UDP :${s.address().port}`));
    closers.push(() => s.close());
  }
  process.on('SIGTERM', () => {
    for (const c of closers) c();
    process.exit(0);
  });
}

// ---------------------------------------------------------------------------------------------------
// probe

/** Rejects with `timeout` after `ms`. */
const within = (ms, p) => Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), ms).unref())]);

function probeTcp(ip, port, ms) {
  return new Promise((res) => {
    const c = connect({ host: ip, port });
    let data = '';
    const done = (r) => {
      clearTimeout(timer);
      c.destroy();
      res(r);
    };
    const timer = setTimeout(() => done({ ok: false, error: 'timeout' }), ms);
    c.on('data', (d) => (data += d));
    c.on('end', () => done(data ? { ok: true, reply: data.trim() } : { ok: false, error: 'closed without a reply' }));
    c.on('error', (e) => done({ ok: false, error: e.code ?? e.message }));
  });
}

function probeUdp(ip, port, ms) {
  return new Promise((res) => {
    const s = createSocket('udp4');
    let resend;
    const done = (r) => {
      clearTimeout(timer);
      clearInterval(resend);
      s.close();
      res(r);
    };
    const timer = setTimeout(() => done({ ok: false, error: 'timeout' }), ms);
    s.on('message', (m) => done({ ok: true, reply: String(m).trim() }));
    s.on('error', (e) => done({ ok: false, error: e.code ?? e.message }));
    const send = () => s.send('hostname?\n', port, ip);
    s.connect(port, ip, () => {
      send();
      resend = setInterval(send, Math.max(50, Math.floor(ms / 5))); // a datagram may be lost; a reply ends it
    });
  });
}

async function probe(f) {
  const ms = Number(f['timeout-ms'] ?? 1000);
  if (!Number.isFinite(ms) || ms <= 0) {
    process.stderr.write(`agnhost: --timeout-ms: must be a positive number, got ${JSON.stringify(f['timeout-ms'])}\n`);
    process.exit(64);
  }
  let text = f._[0];
  if (text === undefined) {
    text = '';
    for await (const d of process.stdin) text += d;
  }
  let targets;
  try {
    targets = JSON.parse(text);
    if (!Array.isArray(targets)) throw new Error('not an array');
  } catch (e) {
    process.stderr.write(`agnhost: targets: want a JSON array of {host, protocol, port}: ${e.message}\n`);
    process.exit(64);
  }
  setTimeout(() => {
    process.stderr.write('agnhost: probe overran its bound\n');
    process.exit(2);
  }, 2 * ms + 1000).unref();
  const names = new Map();
  const deadline = Date.now() + ms;
  // a failed lookup is retried until the bound: a busy cluster DNS must not read as a denied pair
  const lookupRetrying = async (host) => {
    for (;;) {
      try {
        return (await within(Math.max(1, deadline - Date.now()), lookup(host, { family: 4 }))).address;
      } catch (e) {
        if (e.message === 'timeout' || Date.now() + 100 >= deadline) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const resolve = (host) => {
    if (isIP(host)) return Promise.resolve(host);
    if (!names.has(host)) names.set(host, lookupRetrying(host));
    return names.get(host);
  };
  const results = await Promise.all(targets.map(async (t) => {
    const start = Date.now();
    const base = { host: t.host, protocol: t.protocol ?? 'TCP', port: t.port };
    let ip;
    try {
      ip = await resolve(t.host);
    } catch (e) {
      return { ...base, ok: false, error: `lookup: ${e.code ?? e.message}`, ms: Date.now() - start };
    }
    const left = Math.max(1, ms - (Date.now() - start));
    const r = base.protocol === 'UDP' ? await probeUdp(ip, t.port, left) : await probeTcp(ip, t.port, left);
    return { ...base, ip, ...r, ms: Date.now() - start };
  }));
  // exit at once: a lookup still blocked in the thread pool would otherwise keep the process alive
  process.stdout.write(`${JSON.stringify(results)}\n`, () => process.exit(0));
}

// ---------------------------------------------------------------------------------------------------

if (mode === 'serve') serve(flags(rest));
else if (mode === 'probe') await probe(flags(rest));
else if (mode.startsWith('--')) serve(flags([mode, ...rest]));
else {
  process.stderr.write(`agnhost: unknown mode ${JSON.stringify(mode)}; want serve or probe\n`);
  process.exit(64);
}
