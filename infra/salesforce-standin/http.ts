/**
 * HTTP plumbing shared by the stand-in's route modules: the error type a handler throws to
 * answer with a status and body, Salesforce's REST error bodies, and the request context.
 */
import type { IncomingMessage } from 'node:http';
import type { Access } from './access.ts';
import type { RecordError } from './store.ts';

/** Thrown by a handler: the server answers `status` with `body` (JSON unless a Content-Type says otherwise). */
export class HttpError extends Error {
  constructor(readonly status: number, readonly body: unknown, readonly headers: Record<string, string> = {}) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
  }
}

/** Salesforce's REST error body: a JSON array of `{message, errorCode, fields?}`. */
export const restError = (status: number, errorCode: string, message: string, fields?: string[]): HttpError =>
  new HttpError(status, [{ message, errorCode, ...(fields ? { fields } : {}) }]);

export const notFound = (): HttpError => restError(404, 'NOT_FOUND', 'The requested resource does not exist');

/** A record's errors as one REST error body. */
export const recordErrors = (status: number, errors: RecordError[]): HttpError =>
  new HttpError(status, errors.map((e) => ({ message: e.message, errorCode: e.errorCode, ...(e.fields ? { fields: e.fields } : {}) })));

/** Which of the org's two hosts a request came to: the login host, or the org's My Domain (instance) host. */
export type HostRole = 'login' | 'instance';

/** One request, as the route modules see it. */
export interface Ctx {
  req: IncomingMessage;
  url: URL;
  /** API version of a data request (e.g. "62.0"); empty elsewhere. */
  version: string;
  body: Buffer;
  host: HostRole;
  /** Base URL of the host the request came to. */
  baseUrl: string;
}

/** The user a data request acts as, and what that user may do. */
export interface Caller {
  userId: string;
  access: Access;
}
