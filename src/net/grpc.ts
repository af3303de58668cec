// The broadcaster's gRPC calls to an orchestrator: GetOrchestrator and EndTranscodingSession.
// Like go-livepeer: a fresh connection per call to host:port of the URI, a 3 s connect budget,
// TLS that accepts the orchestrator's self-signed certificate (https) or plaintext HTTP/2 (http).
import { Client, credentials, Metadata, status as GrpcCode, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { isIP } from 'node:net';
import { decodeMessage, encodeMessage, type AuthToken, type MessageName, type Messages, type OrchestratorInfo, type OrchestratorRequest } from './lpRpc.ts';

export const GRPC_CONNECT_TIMEOUT_MS = 3000;
/** Deadline of a call when the caller gives none (go-livepeer uses none; we never wait forever). */
export const DEFAULT_RPC_TIMEOUT_MS = 8000;

export type OrchestratorRpcFailure =
  /** could not open a connection (refused, TLS failure, no route) */
  | 'connect'
  /** connect budget or call deadline elapsed */
  | 'timeout'
  /** the orchestrator answered with an error status; `orchestratorMessage` holds its text */
  | 'rejected'
  /** the reply could not be decoded */
  | 'malformed'
  /** the URI is not usable */
  | 'bad-uri';

/** A failed call; `orchestratorMessage` is the orchestrator's own text, e.g. `Invalid orchestrator request: OrchestratorCapped`. */
export class OrchestratorRpcError extends Error {
  override name = 'OrchestratorRpcError';
  constructor(
    readonly uri: string,
    readonly method: string,
    readonly failure: OrchestratorRpcFailure,
    readonly orchestratorMessage: string,
    /** gRPC status code, when the call got that far */
    readonly grpcCode?: number,
  ) {
    super(`${method} ${uri}: ${orchestratorMessage}`);
  }
}

export interface RpcOptions {
  /** Overall deadline of the call, connect included. */
  timeoutMs?: number;
  /** Connect budget (default 3 s). */
  connectTimeoutMs?: number;
}

interface Target {
  address: string;
  creds: ChannelCredentials;
  /** extra channel options for this target */
  options: Record<string, string | number>;
}

/** host:port and credentials from an orchestrator URI; the path is ignored, as go-livepeer does. */
export function grpcTarget(uri: string): Target {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new OrchestratorRpcError(uri, 'dial', 'bad-uri', `invalid orchestrator URI "${uri}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new OrchestratorRpcError(uri, 'dial', 'bad-uri', `unsupported scheme "${url.protocol}" (use https:// or http://)`);
  }
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const creds =
    url.protocol === 'https:'
      ? // Orchestrators present a fresh self-signed certificate: no chain or host name check.
        credentials.createSsl(null, null, null, { rejectUnauthorized: false, checkServerIdentity: () => undefined })
      : credentials.createInsecure();
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // TLS forbids an IP address as server name (SNI) and Node warns about it; the name is not checked anyway.
  const options: Record<string, string> = url.protocol === 'https:' && isIP(host) ? { 'grpc.ssl_target_name_override': 'orchestrator.invalid' } : {};
  return { address: `${isIP(host) === 6 ? `[${host}]` : host}:${port}`, creds, options };
}

const CHANNEL_OPTIONS = {
  // One connection per call; never share a channel with other calls.
  'grpc.use_local_subchannel_pool': 1,
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
  'grpc.enable_retries': 0,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.service_config_disable_resolution': 1,
} as const;

function waitConnected(client: Client, deadline: number): Promise<void> {
  return new Promise((resolve, reject) => {
    client.waitForReady(deadline, (err) => (err ? reject(err) : resolve()));
  });
}

// grpc-js keeps retrying a refused connection until the deadline; fail on the first transient failure instead.
function watchFailure(client: Client): { promise: Promise<never>; cancel: () => void } {
  const channel = client.getChannel();
  let cancelled = false;
  const promise = new Promise<never>((_, reject) => {
    const check = (): void => {
      if (cancelled) return;
      const state = channel.getConnectivityState(true);
      // 3 = TRANSIENT_FAILURE, 4 = SHUTDOWN
      if (state === 3 || state === 4) return reject(new Error('connection failed'));
      channel.watchConnectivityState(state, Date.now() + 60_000, () => check());
    };
    check();
  });
  promise.catch(() => {});
  return { promise, cancel: () => (cancelled = true) };
}

async function unary<Req extends MessageName, Res extends MessageName>(
  uri: string,
  method: string,
  reqType: Req,
  resType: Res,
  request: Messages[Req],
  opts: RpcOptions,
): Promise<Messages[Res]> {
  const target = grpcTarget(uri);
  const started = Date.now();
  const deadline = started + (opts.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS);
  const connectDeadline = Math.min(deadline, started + (opts.connectTimeoutMs ?? GRPC_CONNECT_TIMEOUT_MS));
  const client = new Client(target.address, target.creds, { ...CHANNEL_OPTIONS, ...target.options });
  const fail = (failure: OrchestratorRpcFailure, message: string, code?: number): OrchestratorRpcError =>
    new OrchestratorRpcError(uri, method, failure, message, code);
  try {
    const failed = watchFailure(client);
    try {
      await Promise.race([waitConnected(client, connectDeadline), failed.promise]);
    } catch (err) {
      const timedOut = Date.now() >= connectDeadline - 5;
      throw fail(
        timedOut ? 'timeout' : 'connect',
        timedOut
          ? `could not connect within ${connectDeadline - started} ms`
          : `could not connect: ${(err as Error).message}; check the orchestrator is running and the URI scheme (https/http)`,
      );
    } finally {
      failed.cancel();
    }

    let decodeFailure: string | undefined;
    return await new Promise<Messages[Res]>((resolve, reject) => {
      client.makeUnaryRequest<Messages[Req], Messages[Res]>(
        `/net.Orchestrator/${method}`,
        (value) => Buffer.from(encodeMessage(reqType, value)),
        (bytes) => {
          try {
            return decodeMessage(resType, bytes);
          } catch (err) {
            decodeFailure = (err as Error).message;
            throw err;
          }
        },
        request,
        new Metadata(),
        { deadline },
        (err: ServiceError | null, value?: Messages[Res]) => {
          if (!err && value !== undefined) return resolve(value);
          if (!err) return reject(fail('malformed', 'empty reply'));
          if (decodeFailure) return reject(fail('malformed', decodeFailure, err.code));
          if (err.code === GrpcCode.DEADLINE_EXCEEDED) {
            return reject(fail('timeout', `no reply within ${deadline - started} ms`, err.code));
          }
          if (err.code === GrpcCode.UNAVAILABLE) return reject(fail('connect', err.details || err.message, err.code));
          if (err.code === GrpcCode.INTERNAL && /parse|decod|serializ/i.test(err.details)) {
            return reject(fail('malformed', err.details, err.code));
          }
          reject(fail('rejected', err.details || err.message, err.code));
        },
      );
    });
  } finally {
    client.close();
  }
}

/**
 * Asks an orchestrator for its current terms: transcoder URI, price, fresh ticket params and a new
 * auth token (each successful call opens a new orchestrator session).
 */
export function getOrchestrator(uri: string, request: OrchestratorRequest, opts: RpcOptions = {}): Promise<OrchestratorInfo> {
  return unary(uri, 'GetOrchestrator', 'OrchestratorRequest', 'OrchestratorInfo', request, opts);
}

/** Tells an orchestrator that a session is over (it frees capacity and drops stored renditions). */
export async function endTranscodingSession(uri: string, authToken: AuthToken, opts: RpcOptions = {}): Promise<void> {
  await unary(uri, 'EndTranscodingSession', 'EndTranscodingSessionRequest', 'EndTranscodingSessionResponse', { authToken }, opts);
}
