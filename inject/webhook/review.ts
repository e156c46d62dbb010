// One AdmissionReview in, one AdmissionReview out: what Istio's injection webhook (serveInject) does,
// as a pure function of the request body and its Content-Type.
//   no body → 400 "no body found";  Content-Type not application/json → 415
//   body that is not an AdmissionReview → 200 with a response {allowed: false, status.message}
//   a Pod that cannot be read, or bad capture annotations → {allowed: false, status.message}, no patch
//   not injected (policy said no, or not a Pod) → {allowed: true}
//   injected → {allowed: true, patchType: "JSONPatch", patch: base64(RFC 6902 JSON)}
// The answer has the request's apiVersion (admission.k8s.io/v1, or v1beta1) and echoes its uid. As in
// Istio, the webhook trusts the MutatingWebhookConfiguration's namespaceSelector and injects any pod it
// is sent unless the pod opts out (a namespace with istio-injection=disabled is simply never selected).

import { InjectError, injectPod } from '../inject.js';
import { createPatch } from '../patch.js';

/** An HTTP answer. */
export interface ReviewReply {
  status: number;
  contentType: string;
  body: string;
}

const text = (status: number, body: string): ReviewReply => ({ status, contentType: 'text/plain; charset=utf-8', body });

function answer(apiVersion: string, response: Record<string, unknown>): ReviewReply {
  return { status: 200, contentType: 'application/json', body: JSON.stringify({ apiVersion, kind: 'AdmissionReview', response }) };
}

/** Handles one POST to /inject; `log` receives one line per decision. */
export function handleReview(body: string, contentType: string | undefined, log: (line: string) => void = () => undefined): ReviewReply {
  if (!body) return text(400, 'no body found\n');
  if ((contentType ?? '').split(';')[0]!.trim().toLowerCase() !== 'application/json') return text(415, 'invalid Content-Type, want `application/json`\n');
  let review: any;
  try {
    review = JSON.parse(body);
  } catch (e) {
    return answer('admission.k8s.io/v1', { uid: '', allowed: false, status: { message: `could not decode body: ${(e as Error).message}` } });
  }
  const apiVersion = review?.apiVersion === 'admission.k8s.io/v1beta1' ? 'admission.k8s.io/v1beta1' : 'admission.k8s.io/v1';
  const req = review?.request;
  if (review?.kind !== 'AdmissionReview' || !req || typeof req !== 'object') {
    return answer(apiVersion, { uid: req?.uid ?? '', allowed: false, status: { message: 'request: not an AdmissionReview with a request' } });
  }
  const uid = typeof req.uid === 'string' ? req.uid : '';
  if (req.kind?.kind !== 'Pod' || (req.resource && req.resource.resource !== 'pods') || req.subResource) return answer(apiVersion, { uid, allowed: true });
  const pod = req.object;
  if (!pod || typeof pod !== 'object' || Array.isArray(pod) || !pod.spec || typeof pod.spec !== 'object' || !Array.isArray(pod.spec.containers)) {
    return answer(apiVersion, { uid, allowed: false, status: { message: 'could not unmarshal raw object: request.object is not a Pod (spec.containers missing)' } });
  }
  const namespace: string = pod.metadata?.namespace || req.namespace || 'default';
  const who = `${namespace}/${pod.metadata?.name || pod.metadata?.generateName || '(unnamed)'}`;
  try {
    const r = injectPod({ ...pod, metadata: { ...(pod.metadata ?? {}), namespace } }, { defaultInject: true });
    if (!r.decision.inject) {
      log(`pod ${who}: skipped: ${r.decision.reason}`);
      return answer(apiVersion, { uid, allowed: true });
    }
    const injected = r.object;
    if (!pod.metadata?.namespace) delete injected.metadata.namespace; // not ours to add
    const patch = createPatch(pod, injected);
    log(`pod ${who}: injected (${r.decision.reason}), ${patch.length} patch operations`);
    return answer(apiVersion, { uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') });
  } catch (e) {
    if (!(e instanceof InjectError)) throw e;
    log(`pod ${who}: denied: ${e.message}`);
    return answer(apiVersion, { uid, allowed: false, status: { message: `injection failed: ${e.message}` } });
  }
}
