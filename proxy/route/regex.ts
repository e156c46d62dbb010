// RE2-like regular expressions for Istio's `regex` fields: Envoy compiles them as `safe_regex` (Google RE2)
// and matches the whole value (an anchored full match). JavaScript's engine is a superset, so what RE2
// rejects is rejected here too (lookaround, backreferences, possessive quantifiers), RE2's `(?P<name>…)`
// is accepted, and the pattern is wrapped in `^(?:…)$`. Errors are strings for the caller's field path.

const UNSUPPORTED: [RegExp, string][] = [
  [/\(\?[=!]/, 'lookahead is not supported by RE2'],
  [/\(\?<[=!]/, 'lookbehind is not supported by RE2'],
  [/\\[1-9]/, 'backreferences are not supported by RE2'],
  [/\\k</, 'named backreferences are not supported by RE2'],
  [/[*+?}][+]/, 'possessive quantifiers are not supported by RE2'],
];

/** Compiles an RE2 pattern for a full match, or returns why it is invalid. */
export function compileRe2(pattern: string): RegExp | string {
  if (typeof pattern !== 'string') return 'must be a string';
  // A quoted `\\1` is a literal backslash and digit: drop escaped backslashes before the checks.
  const scan = pattern.replace(/\\\\/g, '');
  for (const [re, why] of UNSUPPORTED) if (re.test(scan)) return `invalid regex ${JSON.stringify(pattern)}: ${why}`;
  const js = pattern.replace(/\(\?P</g, '(?<');
  try {
    return new RegExp(`^(?:${js})$`);
  } catch (e) {
    return `invalid regex ${JSON.stringify(pattern)}: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`;
  }
}

/** Compiles an RE2 pattern for substitution (Envoy's regex_rewrite: every match is replaced). */
export function compileRe2Global(pattern: string): RegExp | string {
  const full = compileRe2(pattern);
  if (typeof full === 'string') return full;
  return new RegExp(pattern.replace(/\(\?P</g, '(?<'), 'g');
}

/** RE2/Envoy substitution `\1` → JavaScript's `$1` (and a literal `$` kept literal). */
export function re2Substitution(s: string): string {
  return s.replace(/\$/g, '$$$$').replace(/\\(\d)/g, '$$$1');
}
