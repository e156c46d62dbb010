// The admission chain, in kube-apiserver's order: defaulting, mutating hooks, defaulting again (a hook
// may add parts that need defaults, such as an injected container), validation (object metadata then
// the kind's own rules), then validating hooks. Later capabilities plug in hooks (sidecar injection is a
// mutating hook); each hook says what happened in its return value instead of throwing.

import type { KubeObject } from '../../../api/meta.js';
import type { ResourceType } from '../../../api/resource.js';
import type { FieldError } from '../../../api/field.js';
import { ApiError, errors } from '../../../api/errors.js';

/** The user a request is made as. */
export interface UserInfo {
  username: string;
  uid: string;
  groups: string[];
}

/** What a hook sees (shaped like admission.k8s.io/v1 AdmissionRequest). */
export interface AdmissionRequest {
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  resource: ResourceType;
  subresource: string;
  namespace: string;
  name: string;
  /** the new object; mutating hooks change it in place */
  object: KubeObject | undefined;
  oldObject: KubeObject | undefined;
  dryRun: boolean;
  userInfo: UserInfo;
}

/** A hook's verdict: go on, or deny with a reason (and optional field errors). */
export type AdmissionResult = { allowed: true } | { allowed: false; reason: string; code?: number; causes?: FieldError[] };

/** A named admission plugin. `mutate` may change request.object; `validate` must not. */
export interface AdmissionPlugin {
  name: string;
  /** resources this plugin handles (plural names); undefined = all */
  resources?: string[];
  mutate?(req: AdmissionRequest): AdmissionResult | Promise<AdmissionResult>;
  validate?(req: AdmissionRequest): AdmissionResult | Promise<AdmissionResult>;
}

/** Generic ObjectMeta validation, provided by the API model. */
export type MetaValidator = (obj: KubeObject, rt: ResourceType, old?: KubeObject) => FieldError[];

/** The ordered chain of admission plugins. */
export class AdmissionChain {
  private readonly plugins: AdmissionPlugin[] = [];

  constructor(private readonly validateMeta: MetaValidator) {}

  /** Append a plugin (mutating hooks run in the order added, then validating hooks in that order). */
  use(p: AdmissionPlugin): this {
    this.plugins.push(p);
    return this;
  }

  /** Names of the plugins, in order. */
  names(): string[] {
    return this.plugins.map((p) => p.name);
  }

  /**
   * Run the whole chain for a write. Throws ApiError (422 Invalid, 403 Forbidden...) when the object is
   * rejected. For DELETE only validating hooks run.
   */
  async admit(req: AdmissionRequest): Promise<void> {
    const rt = req.resource;
    const applies = (p: AdmissionPlugin) => !p.resources || p.resources.includes(rt.plural);
    if (req.object && req.operation !== 'DELETE') {
      if (req.subresource === '') rt.applyDefaults(req.object);
      for (const p of this.plugins) {
        if (!p.mutate || !applies(p)) continue;
        this.check(p, await p.mutate(req), req);
      }
      if (req.subresource === '') rt.applyDefaults(req.object);
      const errs = [...this.validateMeta(req.object, rt, req.oldObject), ...rt.validate(req.object, req.oldObject)];
      if (errs.length) throw errors.invalid(rt.kind, rt.group, req.object.metadata.name ?? req.name, errs);
    }
    for (const p of this.plugins) {
      if (!p.validate || !applies(p)) continue;
      this.check(p, await p.validate(req), req);
    }
  }

  private check(p: AdmissionPlugin, r: AdmissionResult, req: AdmissionRequest): void {
    if (r.allowed) return;
    if (r.causes?.length) throw errors.invalid(req.resource.kind, req.resource.group, req.name, r.causes);
    const code = r.code ?? 403;
    const reason = code === 403 ? 'Forbidden' : code === 404 ? 'NotFound' : code === 409 ? 'Conflict' : code === 422 ? 'Invalid' : 'BadRequest';
    throw new ApiError(reason, `admission webhook "${p.name}" denied the request: ${r.reason}`, {
      group: req.resource.group,
      kind: req.resource.plural,
      name: req.name,
    });
  }
}
