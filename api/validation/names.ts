// Syntax checks shared by every kind, with Kubernetes' own messages (apimachinery's
// util/validation): RFC 1123 labels and subdomains, RFC 1035 labels, qualified names (label keys),
// label values, IANA service names (port names), IPs, CIDRs, ports. Each returns a list of
// problem strings (empty when fine); callers turn them into FieldErrors with their path.

import { isIP } from 'node:net';
import { parseCIDR } from '../../lib/net/ip.js';

const dns1123LabelRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123SubdomainRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dns1035LabelRe = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const qualifiedNameRe = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const labelValueRe = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const ianaSvcNameRe = /^[-a-z0-9]+$/;
const wildcardDns1123SubdomainRe = /^\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function tooLong(max: number): string {
  return `must be no more than ${max} characters`;
}

/** RFC 1123 label (container names, Namespace names): lower-case alphanumerics and '-', at most 63. */
export function dns1123Label(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push(tooLong(63));
  if (!dns1123LabelRe.test(v))
    out.push(
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    );
  return out;
}

/** RFC 1123 subdomain (most object names): labels joined by '.', at most 253. */
export function dns1123Subdomain(v: string): string[] {
  const out: string[] = [];
  if (v.length > 253) out.push(tooLong(253));
  if (!dns1123SubdomainRe.test(v))
    out.push(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  return out;
}

/** `*.example.com` or a plain subdomain (Ingress and HTTPRoute hosts). */
export function wildcardOrSubdomain(v: string): string[] {
  if (v.startsWith('*')) {
    if (wildcardDns1123SubdomainRe.test(v) && v.length <= 253) return [];
    return ["a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"];
  }
  return dns1123Subdomain(v);
}

/** RFC 1035 label (Service names): must start with a letter. */
export function dns1035Label(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push(tooLong(63));
  if (!dns1035LabelRe.test(v))
    out.push(
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    );
  return out;
}

/** Qualified name (label and annotation keys): `[prefix/]name`, prefix a DNS subdomain. */
export function qualifiedName(v: string): string[] {
  const out: string[] = [];
  const parts = v.split('/');
  let name = v;
  if (parts.length === 2) {
    const [prefix, n] = parts as [string, string];
    name = n;
    if (prefix.length === 0) out.push('prefix part must be non-empty');
    else for (const m of dns1123Subdomain(prefix)) out.push(`prefix part ${m}`);
  } else if (parts.length > 2) {
    return [
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) out.push('name part must be non-empty');
  else if (name.length > 63) out.push(`name part ${tooLong(63)}`);
  if (name.length > 0 && !qualifiedNameRe.test(name))
    out.push(
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    );
  return out;
}

/** Label value: empty, or at most 63 alphanumerics with '-', '_', '.' inside. */
export function labelValue(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push(tooLong(63));
  if (!labelValueRe.test(v))
    out.push(
      "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    );
  return out;
}

/** IANA service name (port names): at most 15, lower-case alphanumerics and '-', one letter at least. */
export function portName(v: string): string[] {
  const out: string[] = [];
  if (v.length > 15) out.push(tooLong(15));
  if (!ianaSvcNameRe.test(v)) out.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (v.includes('--')) out.push("must not contain consecutive hyphens");
  if (/[a-z]/.test(v) === false) out.push('must contain at least one letter (a-z)');
  if (v.startsWith('-') || v.endsWith('-')) out.push('must not begin or end with a hyphen');
  return out;
}

/** Port number 1-65535. */
export function portNumber(v: number): string[] {
  return Number.isInteger(v) && v >= 1 && v <= 65535 ? [] : ['must be between 1 and 65535, inclusive'];
}

/** A bare IPv4 or IPv6 address. */
export function ipAddress(v: string): string[] {
  return isIP(v) ? [] : ['must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'];
}

/** CIDR (v4 or v6) as `addr/prefix`, prefix within the family's width. */
export function cidr(v: string): string[] {
  const parsed = parseCIDR(v);
  return parsed ? [] : ['must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'];
}
