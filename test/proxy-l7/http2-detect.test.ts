// proxy/http2/detect.ts: the protocol a connection's first bytes announce — the HTTP/2 preface, an HTTP/1
// request line, or opaque TCP — and `need-more` for every prefix that could still become HTTP, byte by byte.
import t from 'tap';
import { detectProtocol, H2_PREFACE, MAX_SNIFF_LINE, type DetectedProtocol } from '../../proxy/http2/detect.js';

const b = (s: string | Buffer): Buffer => (typeof s === 'string' ? Buffer.from(s, 'latin1') : s);

t.test('complete inputs', async (t) => {
  const rows: { name: string; input: string | Buffer; want: DetectedProtocol }[] = [
    { name: 'h2 preface alone', input: H2_PREFACE, want: 'h2' },
    { name: 'h2 preface + SETTINGS', input: Buffer.concat([H2_PREFACE, Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]), want: 'h2' },
    { name: 'GET origin-form', input: 'GET /ratings?x=1 HTTP/1.1\r\nHost: reviews\r\n\r\n', want: 'http1' },
    { name: 'request line only', input: 'POST /api HTTP/1.1\r\n', want: 'http1' },
    { name: 'HTTP/1.0', input: 'HEAD / HTTP/1.0\r\n', want: 'http1' },
    { name: 'absolute-form', input: 'GET http://reviews:9080/x HTTP/1.1\r\n', want: 'http1' },
    { name: 'authority-form CONNECT', input: 'CONNECT reviews:443 HTTP/1.1\r\n', want: 'http1' },
    { name: 'asterisk OPTIONS', input: 'OPTIONS * HTTP/1.1\r\n', want: 'http1' },
    { name: 'extension method', input: 'PURGE /cache HTTP/1.1\r\n', want: 'http1' },
    { name: 'bare LF (HTTP/1; the parser answers 400)', input: 'GET / HTTP/1.1\n', want: 'http1' },
    { name: 'PRI with a different line is not h2 nor HTTP/1', input: 'PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n', want: 'tcp' },
    { name: 'HTTP/2.0 request line (no preface)', input: 'GET / HTTP/2.0\r\n', want: 'tcp' },
    { name: 'TLS ClientHello', input: Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]), want: 'tcp' },
    { name: 'SSH banner', input: 'SSH-2.0-OpenSSH_9.2\r\n', want: 'tcp' },
    { name: 'Redis inline command', input: '*1\r\n$4\r\nPING\r\n', want: 'tcp' },
    { name: 'word and space, no version', input: 'HELLO world\r\n', want: 'tcp' },
    { name: 'lowercase version', input: 'GET / http/1.1\r\n', want: 'tcp' },
    { name: 'two spaces after method', input: 'GET  / HTTP/1.1\r\n', want: 'tcp' },
    { name: 'leading space', input: ' GET / HTTP/1.1\r\n', want: 'tcp' },
    { name: 'method too long', input: `${'A'.repeat(30)} / HTTP/1.1\r\n`, want: 'tcp' },
    { name: 'method too long, no space yet', input: 'A'.repeat(25), want: 'tcp' },
    { name: 'binary zero', input: Buffer.from([0, 0, 0, 0]), want: 'tcp' },
    { name: 'control char in target', input: 'GET /\x01 HTTP/1.1\r\n', want: 'tcp' },
    { name: 'CR not followed by LF', input: 'GET / HTTP/1.1\rX', want: 'tcp' },
  ];
  for (const r of rows) t.equal(detectProtocol(b(r.input)), r.want, r.name);
});

t.test('partial inputs: every prefix is need-more or the final answer, never another one', async (t) => {
  const samples: { input: Buffer; want: DetectedProtocol; decidedAt: number }[] = [
    { input: H2_PREFACE, want: 'h2', decidedAt: H2_PREFACE.length },
    { input: b('GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n'), want: 'http1', decidedAt: 'GET /index.html HTTP/1.1\r\n'.length },
    // "P", "PR", "PRI" could be either the preface or a method; "PRIX" is a method prefix only.
    { input: b('PRIX / HTTP/1.1\r\n'), want: 'http1', decidedAt: 'PRIX / HTTP/1.1\r\n'.length },
    { input: b('PRI * HTTP/1.1\r\n'), want: 'http1', decidedAt: 'PRI * HTTP/1.1\r\n'.length },
    { input: b('GET / HTTP/1.1\r\n'), want: 'http1', decidedAt: 16 },
    { input: b('SSH-2.0-x\r\n'), want: 'tcp', decidedAt: 'SSH-2.0-x\r'.length },
  ];
  for (const s of samples) {
    let first = -1;
    for (let n = 1; n <= s.input.length; n++) {
      const got = detectProtocol(s.input.subarray(0, n));
      if (got === 'need-more') {
        if (first !== -1) { t.fail(`${JSON.stringify(s.input.toString('latin1'))}: need-more again at ${n} after deciding at ${first}`); break; }
        continue;
      }
      if (got !== s.want) { t.fail(`${JSON.stringify(s.input.subarray(0, n).toString('latin1'))}: ${got}, want ${s.want}`); break; }
      if (first === -1) first = n;
    }
    t.equal(first, s.decidedAt, `${JSON.stringify(s.input.toString('latin1').slice(0, 24))}: decided at byte ${s.decidedAt}`);
  }
  t.equal(detectProtocol(Buffer.alloc(0)), 'need-more', 'nothing yet');
  t.equal(detectProtocol(b('PRI * HTTP/2.0\r\n\r\nSM\r\n')), 'need-more', 'the preface one line short');
  t.equal(detectProtocol(b('GET /')), 'need-more');
  t.equal(detectProtocol(b('GET / HTTP/1.')), 'need-more');
});

t.test('a request line longer than the sniff limit that still looks like HTTP/1 is HTTP/1', async (t) => {
  const long = b(`GET /${'a'.repeat(MAX_SNIFF_LINE)}`);
  t.equal(detectProtocol(long), 'http1');
  t.equal(detectProtocol(long.subarray(0, 100)), 'need-more');
  t.equal(detectProtocol(b('GET /abcdef'), 8), 'http1', 'the limit is a parameter');
});
