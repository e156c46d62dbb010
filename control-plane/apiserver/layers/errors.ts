// The one place errors become HTTP responses: every ApiError (and fastify's own body/media-type errors)
// as a Kubernetes `Status` with the right code; unknown routes as the NotFound Status kube-apiserver sends.

import type { FastifyInstance } from 'fastify';
import { ApiError, errors } from '../../../api/errors.js';

/** kube-apiserver's text for a path or resource it does not serve. */
export const NOT_FOUND_TEXT = 'the server could not find the requested resource';

/** The NotFound for an unknown path, resource or subresource. */
export function notFound(): ApiError {
  return new ApiError('NotFound', NOT_FOUND_TEXT);
}

/** The error handler and the not-found handler. */
export function errorLayer(app: FastifyInstance): void {
  app.setErrorHandler((err: any, req, reply) => {
    let apiErr: ApiError;
    if (err instanceof ApiError) apiErr = err;
    else if (err?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') apiErr = errors.tooLarge();
    else if (err?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') apiErr = errors.unsupportedMediaType(String(req.headers['content-type'] ?? ''));
    else if (err?.statusCode && err.statusCode >= 400 && err.statusCode < 500) apiErr = errors.badRequest(err.message);
    else {
      app.log.error(err);
      apiErr = errors.internal(err?.message ?? String(err));
    }
    if (reply.raw.headersSent) {
      reply.raw.end();
      return;
    }
    void reply.code(apiErr.code).type('application/json').send(apiErr.toStatus());
  });
  app.setNotFoundHandler((_req, reply) => {
    void reply.code(404).type('application/json').send(notFound().toStatus());
  });
}
