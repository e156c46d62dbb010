// The typed client's public surface: import from 'api/client/index.js'.

export { KubeClient, refOf, queryString, TABLE_ACCEPT } from './client.js';
export type { ResourceRef, ListOptions, WatchOptions, WriteOptions, PatchOptions, PatchType, DeleteOptions, ClientOptions, Table } from './client.js';
export { loadKubeconfig, resolveKubeconfig, kubeconfigPaths, KubeconfigError } from './config.js';
export type { ClusterConfig, KubeconfigSource } from './config.js';
export { Discovery, findResource, apiVersionOf, qualifiedResource, UnknownResourceError, UnknownKindError } from './discovery.js';
export type { ApiResource } from './discovery.js';
export { KubeApiError, errorFromResponse, isApiReason, isNotFound, isAlreadyExists, isConflict, isExpired } from './errors.js';
export { Informer, keyOf } from './informer.js';
export type { EventHandlers, InformerOptions } from './informer.js';
export { decodeLines, decodeWatch, statusOf } from './watch.js';
export type { WatchEvent, WatchEventType } from './watch.js';
export { undiciTransport } from './transport.js';
export { execStream, execUrl, exitCodeOf, EXEC_PROTOCOLS } from './exec.js';
export type { ExecRequest, ExecOutcome } from './exec.js';
export type { Transport, HttpRequest, HttpResponse } from './transport.js';
export { EventRecorder, clientSink, nodeRef } from './events.js';
export type { EventSink, EventSource, EventType } from './events.js';
