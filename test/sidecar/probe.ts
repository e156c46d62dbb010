// A client run inside a test pod (not a test itself): its connections are captured by the pod's rules
// like an app's. Prints one JSON line.
//   probe echo HOST PORT MSG             one connection: send MSG, read the echo
//   probe load HOST PORT SECONDS CONC    CONC connections cycling (open, 1 KB echo, close) for SECONDS, plus
//                                        one long-lived connection echoing every 50 ms the whole time
//   probe hold HOST PORT N               open N connections, echo once on each, keep them open until stdin closes
import { connect, type Socket } from 'node:net';

function once(host: string, port: number, msg: Buffer, timeoutMs = 5000): Promise<{ ok: boolean; reply: string; error: string }> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    let got = Buffer.alloc(0);
    const done = (ok: boolean, error = ''): void => { s.destroy(); clearTimeout(timer); resolve({ ok, reply: got.toString('latin1'), error }); };
    const timer = setTimeout(() => done(false, 'timeout'), timeoutMs);
    s.on('connect', () => s.write(msg));
    s.on('data', (d) => { got = Buffer.concat([got, d]); if (got.length >= msg.length) done(got.equals(msg)); });
    s.on('error', (e) => done(false, (e as NodeJS.ErrnoException).code ?? e.message));
    s.on('close', () => done(false, got.length ? 'short reply' : 'closed'));
  });
}

function echoOn(s: Socket, msg: Buffer, timeoutMs = 5000): Promise<boolean> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const onData = (d: Buffer): void => { got = Buffer.concat([got, d]); if (got.length >= msg.length) fin(got.equals(msg)); };
    const fin = (ok: boolean): void => { clearTimeout(timer); s.off('data', onData); s.off('close', onClose); resolve(ok); };
    const onClose = (): void => fin(false);
    const timer = setTimeout(() => fin(false), timeoutMs);
    s.on('data', onData);
    s.once('close', onClose);
    s.write(msg);
  });
}

async function load(host: string, port: number, seconds: number, conc: number): Promise<void> {
  const end = Date.now() + seconds * 1000;
  const msg = Buffer.alloc(1024, 'x');
  let conns = 0;
  let fails = 0;
  const errors: string[] = [];
  const long = connect({ host, port });
  long.on('error', () => {});
  await new Promise((r) => long.once('connect', r));
  let pings = 0;
  let longOk = true;
  const longLoop = (async () => {
    while (Date.now() < end && longOk) {
      longOk = await echoOn(long, Buffer.from(`ping ${pings}\n`));
      if (longOk) pings++;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const worker = async (): Promise<void> => {
    while (Date.now() < end) {
      const r = await once(host, port, msg);
      conns++;
      if (!r.ok) { fails++; if (errors.length < 5) errors.push(r.error); }
    }
  };
  await Promise.all([longLoop, ...Array.from({ length: conc }, worker)]);
  long.destroy();
  process.stdout.write(JSON.stringify({ conns, fails, errors, longLived: { pings, ok: longOk } }) + '\n');
}

async function hold(host: string, port: number, n: number): Promise<void> {
  const socks: Socket[] = [];
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const s = connect({ host, port });
    s.on('error', () => {});
    socks.push(s);
    if (await echoOn(s, Buffer.from(`c${i}\n`), 3000)) ok++;
  }
  process.stdout.write(JSON.stringify({ opened: n, ok }) + '\n');
  process.stdin.resume();
  process.stdin.on('end', async () => {
    let still = 0;
    for (const s of socks) if (!s.destroyed && await echoOn(s, Buffer.from('again\n'), 3000)) still++;
    process.stdout.write(JSON.stringify({ still }) + '\n');
    process.exit(0);
  });
}

const [mode, host, port, a4, a5] = process.argv.slice(2);
if (mode === 'echo') {
  const r = await once(host, Number(port), Buffer.from(a4));
  process.stdout.write(JSON.stringify(r) + '\n');
} else if (mode === 'load') {
  await load(host, Number(port), Number(a4), Number(a5));
} else if (mode === 'hold') {
  await hold(host, Number(port), Number(a4));
} else {
  process.stderr.write('usage: probe echo|load|hold HOST PORT ...\n');
  process.exit(64);
}
