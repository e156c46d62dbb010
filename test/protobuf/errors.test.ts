// Malformed and unsupported protobuf bodies: 400 BadRequest naming the byte offset (and the field being
// read) for broken bytes, 415 UnsupportedMediaType naming the kind for objects without a table.
import t from 'tap';
import { ApiError } from '../../api/errors.js';
import { decodeKubeProtobuf } from '../../control-plane/apiserver/protobuf/index.js';
import { parseField, parseTables } from '../../control-plane/apiserver/protobuf/schema.js';
import { MAGIC, bytes, envelope, int, key, msg, named, str, varint } from './encoder.js';

/** A body whose raw object is `raw`, and the body offset where raw starts. */
function withRaw(raw: Buffer, apiVersion = 'v1', kind = 'ConfigMap'): { body: Buffer; at: number } {
  const body = envelope(apiVersion, kind, raw);
  return { body, at: body.length - raw.length };
}

interface ErrRow {
  name: string;
  body: Buffer;
  code: number;
  /** every pattern must match the message */
  message: RegExp[];
}

const name = named('cm');

const rows: ErrRow[] = [
  { name: 'empty body', body: Buffer.alloc(0), code: 400, message: [/byte offset 0/, /magic prefix/, /empty body/] },
  { name: 'JSON sent as protobuf', body: Buffer.from('{"kind":"ConfigMap"}'), code: 400, message: [/byte offset 0/, /magic prefix "k8s\\0"/, /7b226b69/] },
  { name: 'magic without NUL', body: Buffer.concat([Buffer.from('k8s!'), msg(1)]), code: 400, message: [/byte offset 0/, /magic/] },
  (() => {
    // a field key whose varint never ends: 0x80 continuation bit on the last byte of the body
    const prefix = Buffer.concat([MAGIC, msg(1, str(1, 'v1'), str(2, 'ConfigMap'))]);
    return { name: 'truncated varint in the envelope', body: Buffer.concat([prefix, Buffer.from([0x92])]), code: 400, message: [new RegExp(`byte offset ${prefix.length}\\b`), /truncated varint/, /runtime\.Unknown/] };
  })(),
  (() => {
    const prefix = Buffer.concat([MAGIC, msg(1, str(1, 'v1'), str(2, 'ConfigMap')), key(2, 2)]);
    return { name: 'raw length past the end', body: Buffer.concat([prefix, varint(500), Buffer.from('abc')]), code: 400, message: [new RegExp(`byte offset ${prefix.length}\\b`), /length 500 runs past the end/, /3 bytes left/] };
  })(),
  (() => {
    // inside raw: metadata (field 1) claims 9 bytes but raw holds only 3 after the length
    const raw = Buffer.concat([key(1, 2), varint(9), Buffer.from('abc')]);
    const { body, at } = withRaw(raw);
    return { name: 'nested length past the end of its parent', body, code: 400, message: [new RegExp(`byte offset ${at + 1}\\b`), /length 9/] };
  })(),
  (() => {
    // labels map entry whose key length runs past the entry (but not past the body)
    const entry = Buffer.concat([key(1, 2), varint(20), Buffer.from('ab')]);
    const meta = Buffer.concat([key(11, 2), varint(entry.length), entry]);
    const raw = Buffer.concat([key(1, 2), varint(meta.length), meta]);
    const { body, at } = withRaw(raw);
    return { name: 'map entry length past the entry names the field', body, code: 400, message: [new RegExp(`byte offset ${at + 2 + 2 + 1}\\b`), /metadata\.labels/] };
  })(),
  (() => {
    const raw = Buffer.concat([name, key(9, 0), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])]);
    const { body, at } = withRaw(raw);
    return { name: 'varint longer than ten bytes', body, code: 400, message: [/longer than 10 bytes/, new RegExp(`byte offset ${at + name.length + 1}\\b`)] };
  })(),
  (() => {
    const raw = Buffer.concat([name, Buffer.from([0x00, 0x00])]);
    const { body, at } = withRaw(raw);
    return { name: 'field number 0', body, code: 400, message: [/field number 0/, new RegExp(`byte offset ${at + name.length}\\b`)] };
  })(),
  (() => {
    const raw = Buffer.concat([name, key(7, 3)]);
    const { body, at } = withRaw(raw);
    return { name: 'group wire type', body, code: 400, message: [/start-group/, new RegExp(`byte offset ${at + name.length}\\b`)] };
  })(),
  (() => {
    const raw = Buffer.concat([name, key(99, 5), Buffer.from([1, 2])]);
    const { body, at } = withRaw(raw);
    return { name: 'truncated fixed32 in an unknown field', body, code: 400, message: [/need 4 bytes, 2 left/, new RegExp(`byte offset ${at + name.length + 2}\\b`)] };
  })(),
  (() => {
    const raw = Buffer.concat([int(1, 5)]);
    const { body, at } = withRaw(raw);
    return { name: 'known field with the wrong wire type', body, code: 400, message: [/field 1 \(metadata\) has varint, expected length-delimited/, new RegExp(`byte offset ${at}\\b`), /in ConfigMap/] };
  })(),
  (() => {
    const raw = Buffer.concat([named('s'), msg(2, msg(1, int(3, 80), msg(4, int(1, 2))))]);
    const { body } = withRaw(raw, 'v1', 'Service');
    return { name: 'IntOrString with an unknown type', body, code: 400, message: [/IntOrString type 2/, /spec\.ports\[0\]\.targetPort/] };
  })(),
  (() => {
    const raw = msg(1, msg(17, msg(7, bytes(1, '{not json'))));
    const { body } = withRaw(raw);
    return { name: 'fieldsV1 that is not JSON', body, code: 400, message: [/fieldsV1 raw bytes are not JSON/, /metadata\.managedFields\[0\]\.fieldsV1/] };
  })(),
  (() => {
    const raw = msg(1, int(7, 2n ** 60n));
    const { body } = withRaw(raw);
    return { name: 'int64 beyond a JSON-safe integer', body, code: 400, message: [/does not fit a JSON number/, /metadata\.generation/] };
  })(),
  { name: 'no kind in typeMeta', body: Buffer.concat([MAGIC, msg(1, str(1, 'v1')), bytes(2, name)]), code: 400, message: [/no typeMeta\.kind/] },
  { name: 'unknown kind', body: envelope('apps/v1', 'StatefulSet', name), code: 415, message: [/StatefulSet \(apps\/v1\)/, /application\/json/] },
  { name: 'known kind in another version', body: envelope('apps/v1beta1', 'Deployment', name), code: 415, message: [/Deployment \(apps\/v1beta1\)/] },
  { name: 'content encoding', body: envelope('v1', 'ConfigMap', name, str(3, 'gzip')), code: 415, message: [/contentEncoding "gzip"/, /ConfigMap/] },
  { name: 'raw of another content type', body: envelope('v1', 'ConfigMap', name, str(4, 'application/json')), code: 415, message: [/contentType "application\/json"/] },
];

t.test('malformed and unsupported bodies', async (t) => {
  for (const r of rows) {
    let err: unknown;
    try {
      decodeKubeProtobuf(r.body);
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof ApiError, `${r.name}: throws ApiError`);
    const e = err as ApiError;
    t.equal(e.code, r.code, `${r.name}: code (${e.message})`);
    for (const re of r.message) t.match(e.message, re, `${r.name}: message`);
  }
});

t.test('415 carries the kind in the Status details', async (t) => {
  try {
    decodeKubeProtobuf(envelope('policy/v1', 'PodDisruptionBudget', name));
    t.fail('should throw');
  } catch (e) {
    const s = (e as ApiError).toStatus();
    t.equal(s.reason, 'UnsupportedMediaType');
    t.strictSame(s.details, { group: 'policy', kind: 'PodDisruptionBudget' });
  }
});

t.test('table specs are checked when parsed', async (t) => {
  const bad: Array<[string, () => unknown, RegExp]> = [
    ['unknown flag', () => parseField(1, 'name string optional', 'X'), /unknown flag "optional"/],
    ['missing type', () => parseField(1, 'name', 'X'), /bad spec/],
    ['bad inline', () => parseField(1, '- Foo', 'X'), /embedded struct/],
    ['duplicate number', () => parseTables({ X: [[1, 'a string'], [1, 'b string']] }), /field number 1 used twice/],
    ['unknown message', () => parseTables({ X: [[1, 'a *Nope']] }), /unknown message type Nope/],
  ];
  for (const [what, fn, re] of bad) t.throws(fn, re, what);
  t.strictSame(parseField(3, 'items []KeyToPath omitempty', 'X'), { no: 3, json: 'items', type: 'KeyToPath', shape: 'slice', omitempty: true, inline: false });
  t.strictSame(parseField(2, 'binaryData map[string][]byte omitempty', 'X'), { no: 2, json: 'binaryData', type: 'bytes', shape: 'map', omitempty: true, inline: false });
  t.strictSame(parseField(2, '- inline VolumeSource', 'X'), { no: 2, json: '', type: 'VolumeSource', shape: 'single', omitempty: false, inline: true });
});
