// Resource quantities (`100m`, `1Gi`, `0.5`, `2e3`) as Kubernetes' resource.Quantity writes them:
// a signed decimal number followed by a binary suffix (Ki Mi Gi Ti Pi Ei), a decimal suffix
// (n u m "" k M G T P E) or a decimal exponent (e3, E-2). The scheduler needs their numeric value,
// so parseQuantity returns a plain number (CPU in cores, memory in bytes).

const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const decimal: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

const re = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;

/** The numeric value of a quantity string or number, or undefined when it does not parse. */
export function tryParseQuantity(q: string | number): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) ? q : undefined;
  const m = re.exec(q);
  if (!m) return undefined;
  const n = Number(m[1]);
  const suffix = m[2] ?? '';
  if (suffix in binary) return n * binary[suffix]!;
  if (suffix in decimal) return n * decimal[suffix]!;
  return n * 10 ** Number(suffix.slice(1));
}

/** True when `q` is a well-formed quantity string. */
export function isQuantity(q: string): boolean {
  return re.test(q);
}

/** The numeric value of a quantity; throws `quantities must match the regular expression ...` when malformed. */
export function parseQuantity(q: string | number): number {
  const v = tryParseQuantity(q);
  if (v === undefined) throw new Error(`quantity ${JSON.stringify(q)}: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
  return v;
}

/** The value in thousandths, rounded up, as Kubernetes' MilliValue (CPU `250m` -> 250). */
export function milliValue(q: string | number): number {
  return Math.ceil(Math.round(parseQuantity(q) * 1e9) / 1e6);
}

/**
 * A quantity in Kubernetes' canonical form for `value` in its base unit: whole numbers with the largest
 * binary suffix that divides them when `binarySi` (memory: `128Mi`), else decimal (`2`, `1500`); fractions
 * in milli units (`500m`).
 */
export function formatQuantity(value: number, binarySi = false): string {
  const milli = Math.round(value * 1000);
  if (milli % 1000 !== 0) return `${milli}m`;
  const n = milli / 1000;
  if (binarySi && n !== 0) {
    for (const [suffix, f] of Object.entries(binary).reverse()) if (n % f === 0) return `${n / f}${suffix}`;
  }
  if (!binarySi && n !== 0 && n % 1000 === 0) {
    for (const [suffix, f] of [['E', 1e18], ['P', 1e15], ['T', 1e12], ['G', 1e9], ['M', 1e6], ['k', 1e3]] as const) if (n % f === 0) return `${n / f}${suffix}`;
  }
  return String(n);
}
