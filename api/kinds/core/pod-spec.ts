// Defaulting and semantic validation of a PodSpec, shared by Pod and by every pod template
// (Deployment, ReplicaSet, DaemonSet). Defaults follow Kubernetes' SetDefaults_PodSpec/Container/
// Probe/Volume; checks follow ValidatePodSpec (names, ports, env, mounts, probes, resources,
// tolerations, affinity, DNS). The schema walk has already checked types and enums.

import { validateLabelSelector, validateLabels } from '../../labels.js';
import { tryParseQuantity } from '../../quantity.js';
import { dns1123Label, dns1123Subdomain, ipAddress, portName, portNumber, qualifiedName } from '../../validation/names.js';
import {
  type FieldError,
  Path,
  asArr,
  asObj,
  dupChecker,
  each,
  ensureObj,
  fieldError,
  nonNegative,
  positive,
  setDefault,
  validatePortNumOrName,
} from '../common.js';
import { volumeSources } from './pod-schema.js';

// ---------------------------------------------------------------------------------------------
// Defaults

/** imagePullPolicy by Kubernetes' tag rule: `Always` for `:latest` or no tag (without digest), else `IfNotPresent`. */
export function defaultPullPolicy(image: unknown): string {
  if (typeof image !== 'string') return 'IfNotPresent';
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  const tag = colon < 0 ? '' : image.slice(colon + 1);
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultProbe(p: unknown): void {
  const o = asObj(p);
  if (!o) return;
  setDefault(o, 'timeoutSeconds', 1);
  setDefault(o, 'periodSeconds', 10);
  setDefault(o, 'successThreshold', 1);
  setDefault(o, 'failureThreshold', 3);
  defaultHandler(o);
}

function defaultHandler(o: Record<string, any>): void {
  const h = asObj(o.httpGet);
  if (h) {
    setDefault(h, 'path', '/');
    setDefault(h, 'scheme', 'HTTP');
  }
}

function defaultContainer(c: unknown, hostNetwork: boolean): void {
  const o = asObj(c);
  if (!o) return;
  setDefault(o, 'imagePullPolicy', defaultPullPolicy(o.image));
  setDefault(o, 'terminationMessagePath', '/dev/termination-log');
  setDefault(o, 'terminationMessagePolicy', 'File');
  for (const port of asArr(o.ports)) {
    const po = asObj(port);
    if (!po) continue;
    setDefault(po, 'protocol', 'TCP');
    if (hostNetwork && typeof po.containerPort === 'number') setDefault(po, 'hostPort', po.containerPort);
  }
  for (const e of asArr(o.env)) {
    const fr = asObj(asObj(asObj(e)?.valueFrom)?.fieldRef);
    if (fr) setDefault(fr, 'apiVersion', 'v1');
  }
  defaultProbe(o.livenessProbe);
  defaultProbe(o.readinessProbe);
  defaultProbe(o.startupProbe);
  const lc = asObj(o.lifecycle);
  if (lc) for (const h of [lc.postStart, lc.preStop]) if (asObj(h)) defaultHandler(h);
}

function defaultVolume(v: unknown): void {
  const o = asObj(v);
  if (!o) return;
  if (!volumeSources.some((s) => o[s] !== undefined && o[s] !== null)) o.emptyDir = {};
  for (const k of ['configMap', 'secret', 'downwardAPI', 'projected']) {
    const s = asObj(o[k]);
    if (s) setDefault(s, 'defaultMode', 0o644);
  }
  const hp = asObj(o.hostPath);
  if (hp) setDefault(hp, 'type', '');
  for (const src of asArr(asObj(o.projected)?.sources)) {
    const sat = asObj(asObj(src)?.serviceAccountToken);
    if (sat) setDefault(sat, 'expirationSeconds', 3600);
  }
}

/** Kubernetes' PodSpec defaults, in place. `isPod` adds the ServiceAccount admission default. */
export function defaultPodSpec(spec: unknown, isPod: boolean): void {
  const s = asObj(spec);
  if (!s) return;
  setDefault(s, 'restartPolicy', 'Always');
  setDefault(s, 'dnsPolicy', 'ClusterFirst');
  setDefault(s, 'schedulerName', 'default-scheduler');
  setDefault(s, 'terminationGracePeriodSeconds', 30);
  setDefault(s, 'securityContext', {});
  setDefault(s, 'enableServiceLinks', true);
  if (isPod) {
    setDefault(s, 'serviceAccountName', 'default');
    setDefault(s, 'serviceAccount', s.serviceAccountName);
  }
  const hostNetwork = s.hostNetwork === true;
  for (const c of asArr(s.containers)) defaultContainer(c, hostNetwork);
  for (const c of asArr(s.initContainers)) defaultContainer(c, hostNetwork);
  for (const c of asArr(s.ephemeralContainers)) defaultContainer(c, hostNetwork);
  for (const v of asArr(s.volumes)) defaultVolume(v);
  for (const t of asArr(s.tolerations)) {
    const to = asObj(t);
    if (to && to.operator === undefined) to.operator = 'Equal';
  }
  if (isPod) {
    // A pod whose containers set limits but not requests gets requests = limits (SetDefaults_Pod).
    for (const c of [...asArr(s.containers), ...asArr(s.initContainers)]) {
      const r = asObj(asObj(c)?.resources);
      const limits = asObj(r?.limits);
      if (!r || !limits) continue;
      const req = ensureObj(r, 'requests');
      if (req) for (const [k, v] of Object.entries(limits)) setDefault(req, k, v);
    }
  }
}

/** Defaults for a PodTemplateSpec's spec (no ServiceAccount or requests defaults, as Kubernetes). */
export function defaultPodTemplate(tpl: unknown): void {
  const t = asObj(tpl);
  if (t) defaultPodSpec(t.spec, false);
}

// ---------------------------------------------------------------------------------------------
// Validation

const envNameRe = /^[\x20-\x3c\x3e-\x7e]+$/; // printable ASCII except '='

function validateProbe(errs: FieldError[], p: Path, probe: any, kind: 'liveness' | 'readiness' | 'startup'): void {
  if (!probe) return;
  validateHandler(errs, p, probe, true);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const)
    nonNegative(errs, p.child(f), probe[f]);
  if (kind !== 'readiness' && typeof probe.successThreshold === 'number' && probe.successThreshold !== 1)
    errs.push(fieldError.invalid(p.child('successThreshold'), probe.successThreshold, 'must be 1'));
  if (kind === 'readiness' && probe.terminationGracePeriodSeconds !== undefined)
    errs.push(fieldError.invalid(p.child('terminationGracePeriodSeconds'), probe.terminationGracePeriodSeconds, 'must not be set for readinessProbes'));
  positive(errs, p.child('terminationGracePeriodSeconds'), probe.terminationGracePeriodSeconds);
}

function validateHandler(errs: FieldError[], p: Path, h: any, withGrpc: boolean): void {
  const kinds = ['exec', 'httpGet', 'tcpSocket', ...(withGrpc ? ['grpc'] : []), 'sleep'].filter((k) => h[k] !== undefined && h[k] !== null);
  if (kinds.length === 0) errs.push(fieldError.required(p, 'must specify a handler type'));
  else if (kinds.length > 1) errs.push(fieldError.forbidden(p.child(kinds[1]!), 'may not specify more than 1 handler type'));
  if (h.exec && (!Array.isArray(h.exec.command) || h.exec.command.length === 0)) errs.push(fieldError.required(p.child('exec', 'command')));
  if (h.httpGet) validatePortNumOrName(errs, p.child('httpGet', 'port'), h.httpGet.port);
  if (h.tcpSocket) validatePortNumOrName(errs, p.child('tcpSocket', 'port'), h.tcpSocket.port);
  if (h.grpc) each(errs, p.child('grpc', 'port'), h.grpc.port, portNumber(h.grpc.port));
}

function validateResources(errs: FieldError[], p: Path, r: any): void {
  if (!r) return;
  const limits: Record<string, unknown> = r.limits ?? {};
  const requests: Record<string, unknown> = r.requests ?? {};
  for (const [which, m] of [['limits', limits], ['requests', requests]] as const) {
    for (const [name, q] of Object.entries(m)) {
      const rp = p.child(which).key(name);
      for (const msg of qualifiedName(name)) errs.push(fieldError.invalid(rp, name, msg));
      const v = tryParseQuantity(q as string | number);
      if (v !== undefined && v < 0) errs.push(fieldError.invalid(rp, q, 'must be greater than or equal to 0'));
    }
  }
  for (const [name, q] of Object.entries(requests)) {
    if (!(name in limits)) continue;
    const rv = tryParseQuantity(q as string | number);
    const lv = tryParseQuantity(limits[name] as string | number);
    if (rv !== undefined && lv !== undefined && rv > lv)
      errs.push(fieldError.invalid(p.child('requests').key(name), q, `must be less than or equal to ${name} limit of ${String(limits[name])}`));
  }
}

function validateContainer(
  errs: FieldError[],
  p: Path,
  c: any,
  ctx: { volumes: Set<string>; hostNetwork: boolean; init: boolean; names: (p: Path, v: string) => void },
): void {
  if (typeof c.name === 'string') {
    each(errs, p.child('name'), c.name, dns1123Label(c.name));
    ctx.names(p.child('name'), c.name);
  }
  if (typeof c.image !== 'string' || c.image.trim() === '') errs.push(fieldError.required(p.child('image')));
  else if (c.image !== c.image.trim()) errs.push(fieldError.invalid(p.child('image'), c.image, 'must not have leading or trailing whitespace'));
  const portNames = dupChecker(errs);
  const portKeys = new Set<string>();
  asArr(c.ports).forEach((port: any, i: number) => {
    const pp = p.child('ports').index(i);
    if (typeof port.containerPort === 'number') each(errs, pp.child('containerPort'), port.containerPort, portNumber(port.containerPort));
    if (typeof port.hostPort === 'number' && port.hostPort !== 0) each(errs, pp.child('hostPort'), port.hostPort, portNumber(port.hostPort));
    if (ctx.hostNetwork && typeof port.hostPort === 'number' && port.hostPort !== port.containerPort)
      errs.push(fieldError.invalid(pp.child('hostPort'), port.hostPort, 'must match `containerPort` when `hostNetwork` is true'));
    if (typeof port.name === 'string' && port.name !== '') {
      each(errs, pp.child('name'), port.name, portName(port.name));
      portNames(pp.child('name'), port.name);
    }
    if (typeof port.hostIP === 'string' && port.hostIP !== '') each(errs, pp.child('hostIP'), port.hostIP, ipAddress(port.hostIP));
    const key = `${port.containerPort}/${port.protocol ?? 'TCP'}/${port.hostPort ?? 0}/${port.hostIP ?? ''}`;
    if (portKeys.has(key)) errs.push(fieldError.duplicate(pp, `${port.containerPort}/${port.protocol ?? 'TCP'}`));
    portKeys.add(key);
  });
  asArr(c.env).forEach((e: any, i: number) => {
    const ep = p.child('env').index(i);
    if (typeof e.name === 'string' && !envNameRe.test(e.name))
      errs.push(fieldError.invalid(ep.child('name'), e.name, "a valid environment variable name must consist only of printable ASCII characters other than '='"));
    if (e.valueFrom) {
      const srcs = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef', 'fileKeyRef'].filter((k) => e.valueFrom[k]);
      if (srcs.length !== 1)
        errs.push(fieldError.invalid(ep.child('valueFrom'), '', srcs.length === 0 ? 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`' : 'may not have more than one field specified at a time'));
      if (typeof e.value === 'string' && e.value !== '') errs.push(fieldError.invalid(ep.child('valueFrom'), '', 'may not be specified when `value` is not empty'));
      for (const k of ['configMapKeyRef', 'secretKeyRef']) {
        const ref = e.valueFrom[k];
        if (ref && (typeof ref.name !== 'string' || ref.name === '')) errs.push(fieldError.required(ep.child('valueFrom', k, 'name')));
      }
    }
  });
  asArr(c.envFrom).forEach((e: any, i: number) => {
    const ep = p.child('envFrom').index(i);
    const n = (e.configMapRef ? 1 : 0) + (e.secretRef ? 1 : 0);
    if (n !== 1) errs.push(fieldError.invalid(ep, '', 'must specify one of: `configMapRef` or `secretRef`'));
  });
  const mountPaths = dupChecker(errs);
  asArr(c.volumeMounts).forEach((m: any, i: number) => {
    const mp = p.child('volumeMounts').index(i);
    if (typeof m.name === 'string' && !ctx.volumes.has(m.name)) errs.push(fieldError.notFound(mp.child('name'), m.name));
    if (typeof m.mountPath === 'string') {
      if (m.mountPath === '') errs.push(fieldError.required(mp.child('mountPath')));
      else mountPaths(mp.child('mountPath'), m.mountPath);
    }
    if (typeof m.subPath === 'string' && (m.subPath.startsWith('/') || m.subPath.split('/').includes('..')))
      errs.push(fieldError.invalid(mp.child('subPath'), m.subPath, "must be a relative path without '..'"));
  });
  validateProbe(errs, p.child('livenessProbe'), c.livenessProbe, 'liveness');
  validateProbe(errs, p.child('readinessProbe'), c.readinessProbe, 'readiness');
  validateProbe(errs, p.child('startupProbe'), c.startupProbe, 'startup');
  if (ctx.init && c.restartPolicy !== 'Always') {
    for (const f of ['livenessProbe', 'readinessProbe', 'startupProbe'])
      if (c[f]) errs.push(fieldError.forbidden(p.child(f), 'may not be set for init containers without restartPolicy=Always'));
  }
  if (!ctx.init && c.restartPolicy !== undefined) errs.push(fieldError.forbidden(p.child('restartPolicy'), 'may not be set for non-init containers'));
  if (c.lifecycle) {
    if (c.lifecycle.postStart) validateHandler(errs, p.child('lifecycle', 'postStart'), c.lifecycle.postStart, false);
    if (c.lifecycle.preStop) validateHandler(errs, p.child('lifecycle', 'preStop'), c.lifecycle.preStop, false);
  }
  validateResources(errs, p.child('resources'), c.resources);
  const sc = c.securityContext;
  if (sc) {
    nonNegative(errs, p.child('securityContext', 'runAsUser'), sc.runAsUser);
    nonNegative(errs, p.child('securityContext', 'runAsGroup'), sc.runAsGroup);
    if (sc.privileged === true && sc.allowPrivilegeEscalation === false)
      errs.push(fieldError.invalid(p.child('securityContext'), 'object', 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
  }
  if (c.stdinOnce === true && c.stdin !== true) errs.push(fieldError.invalid(p.child('stdinOnce'), true, '`stdinOnce` requires `stdin` to be true'));
}

/** Every problem in a PodSpec at `p` (e.g. `spec` or `spec.template.spec`). */
export function validatePodSpec(spec: any, p: Path): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec) return [fieldError.required(p)];
  const volumes = new Set<string>();
  const volNames = dupChecker(errs);
  asArr(spec.volumes).forEach((v: any, i: number) => {
    const vp = p.child('volumes').index(i);
    if (typeof v.name === 'string') {
      each(errs, vp.child('name'), v.name, dns1123Label(v.name));
      volNames(vp.child('name'), v.name);
      volumes.add(v.name);
    }
    const srcs = volumeSources.filter((s) => v[s] !== undefined && v[s] !== null);
    if (srcs.length === 0) errs.push(fieldError.required(vp, 'must specify a volume type'));
    else if (srcs.length > 1) errs.push(fieldError.forbidden(vp.child(srcs[1]!), 'may not specify more than 1 volume type'));
    for (const k of ['configMap', 'secret', 'downwardAPI', 'projected']) {
      const mode = v[k]?.defaultMode;
      if (typeof mode === 'number' && (mode < 0 || mode > 0o777))
        errs.push(fieldError.invalid(vp.child(k, 'defaultMode'), mode, 'must be a number between 0 and 0777 (octal), both inclusive'));
    }
    if (v.configMap && !v.configMap.name) errs.push(fieldError.required(vp.child('configMap', 'name')));
    if (v.secret && !v.secret.secretName) errs.push(fieldError.required(vp.child('secret', 'secretName')));
    if (v.hostPath && typeof v.hostPath.path === 'string' && v.hostPath.path === '') errs.push(fieldError.required(vp.child('hostPath', 'path')));
  });

  const containers = asArr(spec.containers);
  if (containers.length === 0) errs.push(fieldError.required(p.child('containers')));
  const names = dupChecker(errs);
  const hostNetwork = spec.hostNetwork === true;
  asArr(spec.initContainers).forEach((c, i) =>
    validateContainer(errs, p.child('initContainers').index(i), c, { volumes, hostNetwork, init: true, names }),
  );
  containers.forEach((c, i) => validateContainer(errs, p.child('containers').index(i), c, { volumes, hostNetwork, init: false, names }));
  asArr(spec.ephemeralContainers).forEach((c: any, i: number) => {
    const cp = p.child('ephemeralContainers').index(i);
    if (typeof c.name === 'string') {
      each(errs, cp.child('name'), c.name, dns1123Label(c.name));
      names(cp.child('name'), c.name);
    }
    if (asArr(c.ports).length) errs.push(fieldError.forbidden(cp.child('ports'), 'cannot be set on ephemeral containers'));
  });

  nonNegative(errs, p.child('terminationGracePeriodSeconds'), spec.terminationGracePeriodSeconds);
  positive(errs, p.child('activeDeadlineSeconds'), spec.activeDeadlineSeconds);
  errs.push(...validateLabels(spec.nodeSelector, p.child('nodeSelector')));
  for (const f of ['serviceAccountName', 'nodeName', 'priorityClassName', 'runtimeClassName'] as const)
    if (typeof spec[f] === 'string' && spec[f] !== '') each(errs, p.child(f), spec[f], dns1123Subdomain(spec[f]));
  for (const f of ['hostname', 'subdomain'] as const)
    if (typeof spec[f] === 'string' && spec[f] !== '') each(errs, p.child(f), spec[f], dns1123Label(spec[f]));
  if (spec.dnsPolicy === 'None' && !spec.dnsConfig)
    errs.push(fieldError.required(p.child('dnsConfig'), 'must provide `dnsConfig` when `dnsPolicy` is None'));
  if (spec.dnsConfig) {
    const ns = asArr(spec.dnsConfig.nameservers);
    if (ns.length > 3) errs.push(fieldError.invalid(p.child('dnsConfig', 'nameservers'), ns.length, 'must not have more than 3 nameservers'));
    ns.forEach((n: string, i: number) => each(errs, p.child('dnsConfig', 'nameservers').index(i), n, ipAddress(n)));
    if (spec.dnsPolicy === 'None' && ns.length === 0)
      errs.push(fieldError.required(p.child('dnsConfig', 'nameservers'), 'must provide at least one DNS nameserver when `dnsPolicy` is None'));
  }
  asArr(spec.hostAliases).forEach((h: any, i: number) => each(errs, p.child('hostAliases').index(i).child('ip'), h.ip, ipAddress(h.ip)));
  asArr(spec.imagePullSecrets).forEach((s: any, i: number) => {
    if (!s.name) errs.push(fieldError.required(p.child('imagePullSecrets').index(i).child('name')));
  });
  asArr(spec.tolerations).forEach((t: any, i: number) => {
    const tp = p.child('tolerations').index(i);
    if (typeof t.key === 'string' && t.key !== '') each(errs, tp.child('key'), t.key, qualifiedName(t.key));
    if ((t.key ?? '') === '' && t.operator !== 'Exists')
      errs.push(fieldError.invalid(tp.child('operator'), t.operator, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    if (t.operator === 'Exists' && (t.value ?? '') !== '') errs.push(fieldError.invalid(tp.child('operator'), t.value, 'value must be empty when `operator` is \'Exists\''));
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute')
      errs.push(fieldError.invalid(tp.child('effect'), t.effect ?? '', 'effect must be \'NoExecute\' when `tolerationSeconds` is set'));
  });
  validateAffinity(errs, p.child('affinity'), spec.affinity);
  asArr(spec.topologySpreadConstraints).forEach((c: any, i: number) => {
    const cp = p.child('topologySpreadConstraints').index(i);
    positive(errs, cp.child('maxSkew'), c.maxSkew);
    if (c.topologyKey === '') errs.push(fieldError.required(cp.child('topologyKey'), 'can not be empty'));
    errs.push(...validateLabelSelector(c.labelSelector, cp.child('labelSelector')));
  });
  if (spec.securityContext) {
    const sp = p.child('securityContext');
    nonNegative(errs, sp.child('runAsUser'), spec.securityContext.runAsUser);
    nonNegative(errs, sp.child('runAsGroup'), spec.securityContext.runAsGroup);
    nonNegative(errs, sp.child('fsGroup'), spec.securityContext.fsGroup);
  }
  return errs;
}

function validateAffinity(errs: FieldError[], p: Path, a: any): void {
  if (!a) return;
  const na = a.nodeAffinity;
  if (na) {
    asArr(na.preferredDuringSchedulingIgnoredDuringExecution).forEach((w: any, i: number) => {
      const wp = p.child('nodeAffinity', 'preferredDuringSchedulingIgnoredDuringExecution').index(i);
      if (typeof w.weight === 'number' && (w.weight < 1 || w.weight > 100)) errs.push(fieldError.invalid(wp.child('weight'), w.weight, 'must be in the range 1-100'));
    });
    const req = na.requiredDuringSchedulingIgnoredDuringExecution;
    if (req && asArr(req.nodeSelectorTerms).length === 0)
      errs.push(fieldError.required(p.child('nodeAffinity', 'requiredDuringSchedulingIgnoredDuringExecution', 'nodeSelectorTerms'), 'must have at least one node selector term'));
    asArr(req?.nodeSelectorTerms).forEach((term: any, i: number) => {
      asArr(term.matchExpressions).forEach((e: any, j: number) => {
        const ep = p.child('nodeAffinity', 'requiredDuringSchedulingIgnoredDuringExecution', 'nodeSelectorTerms').index(i).child('matchExpressions').index(j);
        const n = asArr(e.values).length;
        if ((e.operator === 'In' || e.operator === 'NotIn') && n === 0) errs.push(fieldError.required(ep.child('values'), 'must be specified when `operator` is \'In\' or \'NotIn\''));
        if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && n > 0) errs.push(fieldError.forbidden(ep.child('values'), 'may not be specified when `operator` is \'Exists\' or \'DoesNotExist\''));
        if ((e.operator === 'Gt' || e.operator === 'Lt') && (n !== 1 || !/^-?[0-9]+$/.test(e.values[0])))
          errs.push(fieldError.required(ep.child('values'), 'must be specified single value when `operator` is \'Lt\' or \'Gt\''));
        each(errs, ep.child('key'), e.key, qualifiedName(e.key));
      });
    });
  }
  for (const which of ['podAffinity', 'podAntiAffinity'] as const) {
    const pa = a[which];
    if (!pa) continue;
    const terms = (list: unknown, base: Path, nested: boolean): void =>
      asArr(list).forEach((t: any, i: number) => {
        let tp = base.index(i);
        if (nested) {
          if (typeof t.weight === 'number' && (t.weight < 1 || t.weight > 100)) errs.push(fieldError.invalid(tp.child('weight'), t.weight, 'must be in the range 1-100'));
          t = t.podAffinityTerm;
          tp = tp.child('podAffinityTerm');
        }
        if (!t) return;
        if (t.topologyKey === '') errs.push(fieldError.required(tp.child('topologyKey'), 'can not be empty'));
        else if (typeof t.topologyKey === 'string') each(errs, tp.child('topologyKey'), t.topologyKey, qualifiedName(t.topologyKey));
        errs.push(...validateLabelSelector(t.labelSelector, tp.child('labelSelector')));
        errs.push(...validateLabelSelector(t.namespaceSelector, tp.child('namespaceSelector')));
      });
    terms(pa.requiredDuringSchedulingIgnoredDuringExecution, p.child(which, 'requiredDuringSchedulingIgnoredDuringExecution'), false);
    terms(pa.preferredDuringSchedulingIgnoredDuringExecution, p.child(which, 'preferredDuringSchedulingIgnoredDuringExecution'), true);
  }
}
