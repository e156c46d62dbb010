// The watch stream decoder: the server sends one JSON `{type, object}` per line over a chunked response;
// chunks split lines anywhere, so bytes are buffered until a newline (UTF-8 sequences split across chunks
// are kept intact by the streaming TextDecoder).

import type { KubeObject, Status } from '../meta.js';

/** The event types of a Kubernetes watch. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** One watch event; for ERROR the object is a Status. */
export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  object: T;
}

/** An ERROR event's Status. */
export function statusOf(ev: WatchEvent): Status {
  return ev.object as unknown as Status;
}

/** Split a byte stream into lines (without the newline); a final unterminated line is yielded too. */
export async function* decodeLines(chunks: AsyncIterable<Buffer | Uint8Array | string>): AsyncGenerator<string> {
  const dec = new TextDecoder('utf-8');
  let buf = '';
  for await (const c of chunks) {
    buf += typeof c === 'string' ? c : dec.decode(c, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim() !== '') yield line;
    }
  }
  buf += dec.decode();
  if (buf.trim() !== '') yield buf;
}

/** Decode a watch stream into events; a malformed line throws with its text. */
export async function* decodeWatch<T extends KubeObject = KubeObject>(chunks: AsyncIterable<Buffer | Uint8Array | string>): AsyncGenerator<WatchEvent<T>> {
  for await (const line of decodeLines(chunks)) {
    let ev: WatchEvent<T>;
    try {
      ev = JSON.parse(line) as WatchEvent<T>;
    } catch (e) {
      throw new Error(`watch stream: malformed event ${JSON.stringify(line.slice(0, 200))}: ${(e as Error).message}`);
    }
    if (!ev || typeof ev.type !== 'string' || !ev.object) throw new Error(`watch stream: event without type or object: ${JSON.stringify(line.slice(0, 200))}`);
    yield ev;
  }
}
