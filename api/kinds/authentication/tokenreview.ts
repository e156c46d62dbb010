// authentication.k8s.io/v1 TokenReview: a create-only, cluster-scoped, never-stored resource. A client
// (mesh control's CA, a webhook) posts a token and reads back whether it authenticates and as whom; the
// API server answers it (control-plane/apiserver/handlers/tokenreview.ts).

import { any, arr, obj, str } from '../../schema/schema.js';
import { kindSchema } from '../common.js';
import { defineKind, nameCol } from '../define.js';

/** authentication.k8s.io/v1 TokenReview */
export const tokenReview = {
  ...defineKind({
    group: 'authentication.k8s.io',
    version: 'v1',
    kind: 'TokenReview',
    plural: 'tokenreviews',
    namespaced: false,
    schema: kindSchema({ spec: obj({ token: str, audiences: arr(str) }), status: any }),
    columns: [nameCol],
    cells: (o) => [o.metadata.name ?? ''],
  }),
  verbs: ['create'],
};
