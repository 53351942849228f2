/**
 * `@gatehouse/client`: what an agent needs to reach Gatehouse through its gateway, and nothing
 * more — an agent credential and the gateway's URL. No runtime dependencies.
 */
export { Gatehouse, type StartSessionOptions } from './client.js';
export { Session, type ProposalInput, type ProposeOptions, type SpawnOptions, type WaitOptions } from './session.js';
export { type ConnectOptions, URL_ENV, TOKEN_ENV } from './http.js';
export {
  AuthenticationError,
  ConfigurationError,
  ConflictError,
  ForbiddenError,
  GatehouseError,
  GatewayUnreachableError,
  InvalidProposalError,
  InvalidRequestError,
  MissingCredentialError,
  NotFoundError,
  PROBLEM_PREFIX,
  ProposalTooLargeError,
  ProtocolError,
  RateLimitedError,
  ServiceUnavailableError,
  SessionClosedError,
  SessionExistsError,
  SessionNotFoundError,
  SessionStartRefusedError,
  SubAgentDeniedError,
  errorFromProblem,
  type RequestContext,
} from './errors.js';
export type * from './types.js';
