// Message body framing for a proxy that streams bodies through unchanged: a `BodyFramer` is told each
// chunk of bytes that arrives after a head and says how many of them belong to the body and when it has
// ended. Content-Length counts bytes; chunked is a byte-level state machine over sizes, extensions, data
// and trailers (RFC 9112 7.1), so chunked bodies are relayed as sent (no re-encoding) and the next
// pipelined message starts exactly after the last chunk's trailer section. Nothing is buffered.

/** How a body ends. */
export type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };

const enum S { Size, Ext, SizeLf, Data, DataCr, DataLf, TrailerStart, Trailer, TrailerLf, EndLf, Done }

/** Largest chunk size accepted (2^48; anything bigger is an attack or a bug). */
const MAX_CHUNK = 2 ** 48;

/** Per-message body state; `feed` returns the bytes consumed, or -1 on a framing error (`error` says why). */
export class BodyFramer {
  done: boolean;
  error = '';
  private remaining: number;
  private state: S = S.Size;
  private size = 0;
  private digits = 0;

  constructor(readonly framing: Framing) {
    this.remaining = framing.kind === 'length' ? framing.length : 0;
    this.done = framing.kind === 'none' || (framing.kind === 'length' && framing.length === 0);
  }

  /** Consumes body bytes from buf[start, end). */
  feed(buf: Buffer, start: number, end: number): number {
    if (this.done) return 0;
    switch (this.framing.kind) {
      case 'close': return end - start;
      case 'length': {
        const n = Math.min(this.remaining, end - start);
        this.remaining -= n;
        if (this.remaining === 0) this.done = true;
        return n;
      }
      case 'chunked': return this.chunked(buf, start, end);
      default: return 0;
    }
  }

  /** The peer closed: a close-delimited body ends well, any other unfinished body is truncated. */
  eof(): boolean {
    if (this.framing.kind === 'close') this.done = true;
    return this.done;
  }

  private fail(reason: string): number {
    this.error = reason;
    return -1;
  }

  private chunked(buf: Buffer, start: number, end: number): number {
    let i = start;
    while (i < end) {
      const c = buf[i];
      switch (this.state) {
        case S.Size: {
          const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (v >= 0) {
            this.size = this.size * 16 + v;
            if (++this.digits > 12 || this.size > MAX_CHUNK) return this.fail('chunk size too large');
            i++;
            break;
          }
          if (this.digits === 0) return this.fail('invalid chunk size');
          if (c === 13) this.state = S.SizeLf;
          else if (c === 59 || c === 32 || c === 9) this.state = S.Ext;
          else return this.fail('invalid chunk size');
          i++;
          break;
        }
        case S.Ext:
          if (c === 13) this.state = S.SizeLf;
          else if (c === 10 || c === 0) return this.fail('invalid chunk extension');
          i++;
          break;
        case S.SizeLf:
          if (c !== 10) return this.fail('bare CR in chunk size line');
          i++;
          this.state = this.size === 0 ? S.TrailerStart : S.Data;
          this.remaining = this.size;
          this.size = 0;
          this.digits = 0;
          break;
        case S.Data: {
          const n = Math.min(this.remaining, end - i);
          this.remaining -= n;
          i += n;
          if (this.remaining === 0) this.state = S.DataCr;
          break;
        }
        case S.DataCr:
          if (c !== 13) return this.fail('chunk data longer than its size');
          this.state = S.DataLf;
          i++;
          break;
        case S.DataLf:
          if (c !== 10) return this.fail('missing LF after chunk data');
          this.state = S.Size;
          i++;
          break;
        case S.TrailerStart:
          this.state = c === 13 ? S.EndLf : S.Trailer;
          if (c === 10) return this.fail('bare LF in trailer section');
          i++;
          break;
        case S.Trailer:
          if (c === 13) this.state = S.TrailerLf;
          else if (c === 10) return this.fail('bare LF in trailer section');
          i++;
          break;
        case S.TrailerLf:
          if (c !== 10) return this.fail('bare CR in trailer section');
          this.state = S.TrailerStart;
          i++;
          break;
        case S.EndLf:
          if (c !== 10) return this.fail('bare CR after last chunk');
          this.state = S.Done;
          this.done = true;
          return i + 1 - start;
        default:
          return i - start;
      }
    }
    return i - start;
  }
}

/** The request body's framing (RFC 9112 6.3: no Content-Length and no chunked means no body). */
export function requestFraming(contentLength: number, chunked: boolean): Framing {
  if (chunked) return { kind: 'chunked' };
  if (contentLength > 0) return { kind: 'length', length: contentLength };
  return { kind: 'none' };
}

/** The response body's framing, given the request method and the status (RFC 9112 6.3). */
export function responseFraming(method: string, status: number, contentLength: number, chunked: boolean): Framing {
  if (method === 'HEAD' || (status >= 100 && status < 200) || status === 204 || status === 304) return { kind: 'none' };
  if (chunked) return { kind: 'chunked' };
  if (contentLength >= 0) return contentLength === 0 ? { kind: 'none' } : { kind: 'length', length: contentLength };
  return { kind: 'close' };
}
