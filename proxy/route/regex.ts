// RE2-like regular expressions for Istio's `regex` fields: Envoy compiles them as `safe_regex` (Google RE2)
// and matches the whole value (an anchored full match). JavaScript's engine is a superset, so what RE2
// rejects is rejected here too (lookaround, backreferences, possessive quantifiers), RE2's `(?P<name>…)`
// is accepted, and the pattern is wrapped in `^(?:…)$`. Errors are strings for the caller's field path.
// The syntax check is the API's (api/kinds/istio/networking-l7.ts), so admission and the proxy agree.
import { re2Problem } from '../../api/kinds/istio/networking-l7.js';

/** Compiles an RE2 pattern for a full match, or returns why it is invalid (the API's check, shared). */
export function compileRe2(pattern: string): RegExp | string {
  if (typeof pattern !== 'string') return 'must be a string';
  const why = re2Problem(pattern);
  if (why) return `invalid regex ${JSON.stringify(pattern)}: ${why}`;
  return new RegExp(`^(?:${pattern.replace(/\(\?P</g, '(?<')})$`);
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
