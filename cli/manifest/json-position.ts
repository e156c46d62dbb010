// Where a JSON text first goes wrong. Node 20's JSON.parse messages do not always carry a position
// ("Unexpected token '}', ... is not valid JSON"), and manifest errors must name the line and column, so
// this small recursive-descent scanner finds the offset of the first error. Only used after JSON.parse
// failed, so speed does not matter.

/** The offset of the first syntax error in `s`, or -1 when it is valid JSON. */
export function jsonErrorOffset(s: string): number {
  let i = 0;
  class Bad extends Error {}
  const ws = () => {
    while (i < s.length && ' \t\n\r'.includes(s[i]!)) i++;
  };
  const fail = (): never => {
    throw new Bad();
  };
  const lit = (w: string) => (s.startsWith(w, i) ? (i += w.length) : fail());
  const str = () => {
    i++; // opening quote
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\') i++;
      else if (s.charCodeAt(i) < 0x20) fail();
      i++;
    }
    if (i >= s.length) fail();
    i++;
  };
  const num = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(s.slice(i));
    if (!m) fail();
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = s[i];
    if (c === '{') {
      i++;
      ws();
      if (s[i] === '}') return void i++;
      for (;;) {
        ws();
        if (s[i] !== '"') fail();
        str();
        ws();
        if (s[i] !== ':') fail();
        i++;
        value();
        ws();
        if (s[i] === ',') i++;
        else if (s[i] === '}') return void i++;
        else fail();
      }
    } else if (c === '[') {
      i++;
      ws();
      if (s[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (s[i] === ',') i++;
        else if (s[i] === ']') return void i++;
        else fail();
      }
    } else if (c === '"') str();
    else if (c === 't') lit('true');
    else if (c === 'f') lit('false');
    else if (c === 'n') lit('null');
    else num();
  };
  try {
    value();
    ws();
    return i < s.length ? i : -1;
  } catch (e) {
    if (e instanceof Bad) return Math.min(i, s.length);
    throw e;
  }
}
