// The DER encoder/reader of the mesh CA against known encodings (X.690), and round trips.
import t from 'tap';
import { children, int, oid, oidString, readTlv, seq, time, tlv, unpem, pem } from '../../proxy/identity/der.js';

const hex = (b: Buffer) => b.toString('hex');

t.test('encodings', async (t) => {
  const rows: [string, Buffer, string][] = [
    ['int 0', int(0), '020100'],
    ['int 127', int(127), '02017f'],
    ['int 128 gets a sign byte', int(128), '02020080'],
    ['int 256', int(256), '02020100'],
    ['int 65537', int(65537), '0203010001'],
    ['int from bytes: leading zeros trimmed', int(Buffer.from('000080', 'hex')), '02020080'],
    ['int from bytes: 0x7f kept short', int(Buffer.from('00007f', 'hex')), '02017f'],
    ['oid rsaEncryption', oid('1.2.840.113549.1.1.1'), '06092a864886f70d010101'],
    ['oid subjectAltName', oid('2.5.29.17'), '0603551d11'],
    ['UTCTime', time(new Date('2026-12-06T07:40:52Z')), '170d3236313230363037343035325a'],
    ['GeneralizedTime from 2050', time(new Date('2050-01-01T00:00:00Z')), '180f32303530303130313030303030305a'],
    ['long form length', tlv(0x04, Buffer.alloc(200)).subarray(0, 3), '0481c8'],
    ['empty sequence', seq(), '3000'],
  ];
  for (const [name, got, want] of rows) t.equal(hex(got), want, name);
});

t.test('reading', async (t) => {
  const s = seq(int(5), oid('1.2.840.10045.4.3.2'), tlv(0x04, Buffer.alloc(300)));
  const items = children(readTlv(s).content);
  t.same(items.map((i) => i.tag), [0x02, 0x06, 0x04]);
  t.equal(oidString(items[1]!.content), '1.2.840.10045.4.3.2');
  t.equal(items[2]!.content.length, 300);
  t.throws(() => readTlv(s.subarray(0, s.length - 1)), /truncated content/);
  t.throws(() => readTlv(Buffer.from([0x30])), /truncated header/);
  t.throws(() => readTlv(Buffer.from([0x30, 0x85, 1, 1, 1, 1, 1])), /bad length/);
  const p = pem('CERTIFICATE', Buffer.alloc(100, 7));
  t.match(p, /^-----BEGIN CERTIFICATE-----\n(?:[A-Za-z0-9+/]{64}\n)+[A-Za-z0-9+/=]{1,64}\n-----END CERTIFICATE-----\n$/);
  t.same(unpem(p + p, 'CERTIFICATE').map((b) => b.length), [100, 100]);
});
