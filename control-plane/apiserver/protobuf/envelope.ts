// The Kubernetes protobuf envelope: the four magic bytes "k8s\0", then a runtime.Unknown message
// {typeMeta {apiVersion = 1, kind = 2} = 1, raw = 2, contentEncoding = 3, contentType = 4}. `raw` holds
// the object's own message, which the kind tables decode.

import { ApiError } from '../../../api/errors.js';
import { Reader, WireType, malformed, wireName } from './wire.js';
import type { Window } from './decode.js';

/** The magic prefix of every Kubernetes protobuf body. */
export const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** The media type this envelope travels as. */
export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

/** What the envelope says about the object inside it. */
export interface Envelope {
  apiVersion: string;
  kind: string;
  /** the object's message bytes within the body */
  raw: Window;
}

/** Read the magic prefix and the runtime.Unknown around the object. */
export function readEnvelope(body: Buffer): Envelope {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw malformed(0, `missing the Kubernetes protobuf magic prefix "k8s\\0" (got ${body.subarray(0, 4).toString('hex') || 'an empty body'})`);
  }
  const r = new Reader(body, MAGIC.length, body.length, 'runtime.Unknown');
  let apiVersion = '';
  let kind = '';
  let raw: Window = { start: body.length, end: body.length };
  let contentEncoding = '';
  let contentType = '';
  const text = (w: Window) => body.toString('utf8', w.start, w.end);
  while (!r.done()) {
    const k = r.key();
    if (k.field >= 1 && k.field <= 4 && k.wire !== WireType.bytes) {
      throw malformed(k.offset, `runtime.Unknown field ${k.field} has ${wireName(k.wire)}, expected length-delimited`);
    }
    if (k.field === 1) {
      const w = r.lengthDelimited();
      const tm = new Reader(body, w.start, w.end, 'runtime.Unknown.typeMeta');
      while (!tm.done()) {
        const tk = tm.key();
        if ((tk.field === 1 || tk.field === 2) && tk.wire !== WireType.bytes) {
          throw malformed(tk.offset, `typeMeta field ${tk.field} has ${wireName(tk.wire)}, expected length-delimited`);
        }
        if (tk.field === 1) apiVersion = text(tm.lengthDelimited());
        else if (tk.field === 2) kind = text(tm.lengthDelimited());
        else tm.skip(tk.wire);
      }
    } else if (k.field === 2) raw = r.lengthDelimited();
    else if (k.field === 3) contentEncoding = text(r.lengthDelimited());
    else if (k.field === 4) contentType = text(r.lengthDelimited());
    else r.skip(k.wire);
  }
  if (!kind) throw new ApiError('BadRequest', 'protobuf body: runtime.Unknown has no typeMeta.kind');
  if (!apiVersion) throw new ApiError('BadRequest', `protobuf body: runtime.Unknown has no typeMeta.apiVersion (kind ${kind})`);
  if (contentEncoding) {
    throw new ApiError('UnsupportedMediaType', `protobuf body: ${apiVersion} ${kind} uses contentEncoding ${JSON.stringify(contentEncoding)}, which is not supported`, { kind });
  }
  if (contentType && contentType !== PROTOBUF_MEDIA_TYPE) {
    throw new ApiError('UnsupportedMediaType', `protobuf body: ${apiVersion} ${kind} has raw contentType ${JSON.stringify(contentType)}; only ${PROTOBUF_MEDIA_TYPE} is supported`, { kind });
  }
  return { apiVersion, kind, raw };
}
