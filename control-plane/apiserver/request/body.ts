// Request bodies: the media types kube-apiserver accepts, decoded in one place, with errors that name the
// line and column of malformed JSON or YAML.

import YAML from 'yaml';
import { errors } from '../../../api/errors.js';
import type { PatchType } from '../handlers/patch-adapter.js';
import { decodeKubeProtobuf, PROTOBUF_MEDIA_TYPE } from '../protobuf/index.js';

/** Body media types for create/update. */
const OBJECT_TYPES = new Set(['application/json', 'application/yaml', 'application/x-yaml', 'text/yaml']);

/** Patch media types and the patch type each selects. */
export const PATCH_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
  'application/apply-patch+cbor': 'apply',
};

/** The bare media type of a Content-Type header. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

function lineCol(text: string, pos: number): string {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const col = pos - before.lastIndexOf('\n');
  return `line ${line}, column ${col}`;
}

/** Parse JSON, turning a syntax error into 400 with the line and column. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /position (\d+)/.exec(msg);
    const where = m ? ` at ${lineCol(text, Number(m[1]))}` : '';
    throw errors.badRequest(`the request body is not valid JSON${where}: ${msg}`);
  }
}

/** Parse one YAML document, 400 with line and column on error. */
export function parseYaml(text: string): unknown {
  const docs = YAML.parseAllDocuments(text, { prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const d of list) {
    const err = d.errors[0];
    if (err) {
      const [line, col] = err.linePos?.[0] ? [err.linePos[0].line, err.linePos[0].col] : [0, 0];
      throw errors.badRequest(`the request body is not valid YAML at line ${line}, column ${col}: ${err.message.split('\n')[0]}`);
    }
  }
  if (list.length > 1) throw errors.badRequest('the request body must hold exactly one YAML document');
  return list[0]?.toJS() ?? null;
}

/** Decode a create/update body by its media type (415 for others). */
export function decodeObject(contentType: string | undefined, body: Buffer | undefined): unknown {
  // no Content-Type (`kubectl create --raw`) means JSON, as kube-apiserver's first supported media type
  const mt = mediaType(contentType || 'application/json');
  if (!body || body.length === 0) throw errors.badRequest('the request body is empty');
  if (mt === PROTOBUF_MEDIA_TYPE) return decodeKubeProtobuf(body);
  if (!OBJECT_TYPES.has(mt)) throw errors.unsupportedMediaType(mt);
  const text = body.toString('utf8');
  return mt === 'application/json' ? parseJson(text) : parseYaml(text);
}

/** Decode a PATCH body; returns its patch type and value. */
export function decodePatch(contentType: string | undefined, body: Buffer | undefined): { type: PatchType; patch: unknown } {
  const mt = mediaType(contentType);
  const type = PATCH_TYPES[mt];
  if (!type) throw errors.unsupportedMediaType(mt);
  if (mt === 'application/apply-patch+cbor') throw errors.unsupportedMediaType(mt);
  if (!body || body.length === 0) throw errors.badRequest('the request body is empty');
  const text = body.toString('utf8');
  return { type, patch: type === 'apply' ? parseYaml(text) : parseJson(text) };
}

/** Decode an optional DeleteOptions body (JSON or YAML); undefined when empty. */
export function decodeOptional(contentType: string | undefined, body: Buffer | undefined): unknown {
  if (!body || body.length === 0) return undefined;
  return decodeObject(contentType || 'application/json', body);
}
