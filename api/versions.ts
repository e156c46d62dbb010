// Served versions and conversion, as a CustomResourceDefinition with several served versions does it:
// one kind, one schema, one storage version; every served version is a view of the same stored objects,
// and converting an object between versions rewrites its apiVersion (the CRD `conversion: None`
// strategy, which is what Istio's and the Gateway API's CRDs use). Generic: any kind that declares
// `servedVersions` gets a view per version from the registry; kinds with one version are untouched.
// Versions order the way Kubernetes orders them (GA > beta > alpha, then by number), which decides the
// preferred version discovery reports.

import type { KubeObject } from './meta.js';
import { joinApiVersion } from './meta.js';
import type { ResourceType } from './resource.js';

/** The version objects of this kind are stored at. */
export function storageVersionOf(rt: ResourceType): string {
  return rt.storageVersion ?? rt.version;
}

/** Every version a kind is served at (its own version when it declares none). */
export function servedVersionsOf(rt: ResourceType): readonly string[] {
  return rt.servedVersions ?? [rt.version];
}

/** The apiVersion of `rt` (`networking.istio.io/v1alpha3`, `v1`). */
export function apiVersionOf(rt: { group: string; version: string }): string {
  return joinApiVersion(rt.group, rt.version);
}

/** A view of `rt` served at `version`: same names, schema and checks, stored at rt's storage version. */
export function versionView(rt: ResourceType, version: string): ResourceType {
  if (version === rt.version) return rt;
  return { ...rt, version, storageVersion: storageVersionOf(rt) };
}

/**
 * `obj` as `apiVersion` (a shallow copy with apiVersion rewritten; the object itself when it already
 * is). Only objects of the same group convert; anything else is returned unchanged.
 */
export function convertTo<T extends KubeObject>(obj: T, apiVersion: string): T {
  if (!obj || obj.apiVersion === apiVersion) return obj;
  return { ...obj, apiVersion };
}

/** Convert to the version `rt` serves. */
export function toServed<T extends KubeObject>(rt: ResourceType, obj: T): T {
  return convertTo(obj, apiVersionOf(rt));
}

/** Convert to the version `rt` stores. */
export function toStorage<T extends KubeObject>(rt: ResourceType, obj: T): T {
  return convertTo(obj, joinApiVersion(rt.group, storageVersionOf(rt)));
}

/**
 * Kubernetes' version priority (apimachinery `CompareKubeAwareVersionStrings`): `v1` > `v1beta1` >
 * `v1alpha3`; GA before beta before alpha, higher major then higher minor first; anything that is not
 * a Kubernetes version sorts last, alphabetically. Negative when `a` comes first.
 */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (!pa || !pb) return pa ? -1 : pb ? 1 : a.localeCompare(b);
  if (pa.level !== pb.level) return pb.level - pa.level;
  if (pa.major !== pb.major) return pb.major - pa.major;
  return pb.minor - pa.minor;
}

function parseVersion(v: string): { major: number; level: number; minor: number } | undefined {
  const m = /^v([1-9][0-9]*)(?:(alpha|beta)([1-9][0-9]*))?$/.exec(v);
  if (!m) return undefined;
  return { major: Number(m[1]), level: m[2] === 'alpha' ? 0 : m[2] === 'beta' ? 1 : 2, minor: m[3] ? Number(m[3]) : 0 };
}

/** Versions sorted by priority; the first is the preferred one. */
export function sortVersions(vs: Iterable<string>): string[] {
  return [...new Set(vs)].sort(compareVersions);
}
