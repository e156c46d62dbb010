// The description of one API resource: its names (as discovery and kubectl see them), scope,
// subresources, defaulting, validation and table columns. The registry (api/registry.ts) holds one
// ResourceType per kind; the API server, the CLI and the typed client read only this.

import type { FieldError } from './field.js';
import type { KubeObject } from './meta.js';

/** A column of a kubectl Table (meta.k8s.io/v1 TableColumnDefinition). */
export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description?: string;
  /** 0 = shown by default; 1 = only with `-o wide`. */
  priority: number;
}

/** Where /scale reads and writes replicas (JSON paths as dotted strings). */
export interface ScaleSubresource {
  specReplicasPath: string; // e.g. 'spec.replicas'
  statusReplicasPath: string; // e.g. 'status.replicas'
  labelSelectorPath?: string; // e.g. 'status.selector' or 'spec.selector'
}

/** Everything the server and clients need to know about one kind. */
export interface ResourceType {
  /** '' for the core group. */
  group: string;
  version: string;
  kind: string;
  listKind: string;
  /** lower-case plural, the REST path segment: 'pods'. */
  plural: string;
  singular: string;
  shortNames: string[];
  namespaced: boolean;
  /**
   * How metadata.name is checked (api/validate-meta.ts). Default 'DNS1123Subdomain'; Namespace uses
   * 'DNS1123Label', Service 'DNS1035Label', the RBAC kinds 'PathSegmentName' (`system:kube-scheduler`), as
   * Kubernetes does.
   */
  nameValidation?: 'DNS1123Subdomain' | 'DNS1123Label' | 'DNS1035Label' | 'PathSegmentName';
  /** discovery categories, e.g. ['all']. */
  categories: string[];
  verbs: string[];
  subresources: { status?: boolean; scale?: ScaleSubresource };
  /**
   * Fill in defaults, in place, on an object the caller owns (the server passes a copy).
   * Called on create and on update before validation.
   */
  applyDefaults(obj: KubeObject): void;
  /**
   * Every error in the object, with field paths relative to the object root
   * ('metadata.name', 'spec.ports[0].port'). `old` is given on update for immutability checks.
   * Does not repeat the generic metadata checks (done by validateObjectMeta) unless kind-specific.
   */
  validate(obj: KubeObject, old?: KubeObject): FieldError[];
  /** The whole Table header as kubectl shows it, NAME first (AGE included where kubectl has it). */
  columns: TableColumn[];
  /** One row's cells for `columns`, in order; `now` is for AGE (e.g. '5m', computed by api/age.ts). */
  cells(obj: KubeObject, now: Date): unknown[];
  /**
   * Every version this kind is served at, when more than one (a CRD with several served versions):
   * the same schema, defaults and validation at each; objects convert by rewriting apiVersion
   * (api/versions.ts). Absent: served at `version` only.
   */
  servedVersions?: readonly string[];
  /** The version objects are stored at (a CRD's `storage: true` version); absent: `version`. */
  storageVersion?: string;
  /** Per-field descriptions for OpenAPI and `kubectl explain`, by dotted path ('spec.http'). */
  docs?: Readonly<Record<string, string>>;
}
