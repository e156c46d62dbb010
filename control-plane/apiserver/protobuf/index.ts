// Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`), decoded into the same JSON
// object the JSON encoding of the same Go object would give, so the rest of the API server never sees
// protobuf. See README.md for the envelope, the tables and what is not decoded.

import type { KubeObject } from '../../../api/meta.js';
import { MessageDecoder } from './decode.js';
import { readEnvelope } from './envelope.js';
import { tableFor, tables } from './kinds.js';

export { PROTOBUF_MEDIA_TYPE } from './envelope.js';

/**
 * Decode a protobuf request body into a Kubernetes object. Throws ApiError 400 (naming the byte offset)
 * for malformed bytes and 415 (naming the kind) for kinds without a table.
 */
export function decodeKubeProtobuf(body: Buffer): KubeObject {
  const env = readEnvelope(body);
  const table = tableFor(env.apiVersion, env.kind);
  const fields = new MessageDecoder(body, tables).message(table, [env.raw], '');
  return { apiVersion: env.apiVersion, kind: env.kind, ...fields } as KubeObject;
}
