// The wire format between the C shim and the daemon, on a unix stream socket:
//   request:  <plugin name>\0 <KEY=VALUE>\0 ... \0 <config bytes until the shim shuts down writing>
//   response: "<exit code> <stdout length> <stderr length>\n" <stdout bytes> <stderr bytes>
// Only CNI_* variables travel; the shim needs no JSON library.

/** A decoded request. */
export interface ShimRequest {
  plugin: string;
  env: Record<string, string>;
  stdin: Buffer;
}

/** Decodes a complete request; throws naming what is malformed. */
export function decodeRequest(buf: Buffer): ShimRequest {
  let pos = 0;
  const field = (): string => {
    const end = buf.indexOf(0, pos);
    if (end < 0) throw new Error('request: missing NUL terminator');
    const s = buf.subarray(pos, end).toString('utf8');
    pos = end + 1;
    return s;
  };
  const plugin = field();
  const env: Record<string, string> = {};
  for (;;) {
    const kv = field();
    if (kv === '') break;
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new Error(`request: bad environment entry ${JSON.stringify(kv)}`);
    const k = kv.slice(0, eq);
    if (k.startsWith('CNI_')) env[k] = kv.slice(eq + 1);
  }
  return { plugin, env, stdin: buf.subarray(pos) };
}

/** Encodes a request (the shim does this in C; tests and the bench use this). */
export function encodeRequest(r: ShimRequest): Buffer {
  const env = Object.entries(r.env).map(([k, v]) => `${k}=${v}\0`).join('');
  return Buffer.concat([Buffer.from(`${r.plugin}\0${env}\0`), r.stdin]);
}

/** Encodes a response. */
export function encodeResponse(code: number, stdout: string, stderr: string): Buffer {
  const o = Buffer.from(stdout);
  const e = Buffer.from(stderr);
  return Buffer.concat([Buffer.from(`${code} ${o.length} ${e.length}\n`), o, e]);
}

/** Decodes a response. */
export function decodeResponse(buf: Buffer): { code: number; stdout: string; stderr: string } {
  const nl = buf.indexOf(10);
  const m = /^(\d+) (\d+) (\d+)$/.exec(buf.subarray(0, nl).toString());
  if (nl < 0 || !m) throw new Error('response: malformed header');
  const o = Number(m[2]);
  return {
    code: Number(m[1]),
    stdout: buf.subarray(nl + 1, nl + 1 + o).toString(),
    stderr: buf.subarray(nl + 1 + o, nl + 1 + o + Number(m[3])).toString(),
  };
}
