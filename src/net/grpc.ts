// The broadcaster's gRPC calls to an orchestrator: GetOrchestrator and EndTranscodingSession.
// Like go-livepeer: a fresh connection per call to host:port of the URI, a 3 s connect budget,
// TLS that accepts the orchestrator's self-signed certificate (https) or plaintext HTTP/2 (http).
import { Client, credentials, Metadata, status as GrpcCode, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { isIP } from 'node:net';
import {
  decodeMessage,
  encodeMessage,
  type AuthToken,
  type MessageName,
  type Messages,
  type OrchestratorInfo,
  type OrchestratorRequest,
} from '../wire/lpRpc.ts';
import { startDeadline } from '../lib/deadline.ts';
import { GatewayError } from '../lib/errors.ts';

export const GRPC_CONNECT_TIMEOUT_MS = 3000;
/** Deadline of a call when the caller gives none (go-livepeer uses none; we never wait forever). */
export const DEFAULT_RPC_TIMEOUT_MS = 8000;
/** How much later than ours the deadline sent to the server is: grpc-js's own timer for it must not expire first. */
const SERVER_DEADLINE_SLACK_MS = 1000;

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
export class OrchestratorRpcError extends GatewayError {
  constructor(
    readonly uri: string,
    readonly method: string,
    readonly failure: OrchestratorRpcFailure,
    readonly orchestratorMessage: string,
    /** gRPC status code, when the call got that far */
    readonly grpcCode?: number,
  ) {
    super(`${method} ${uri}: ${orchestratorMessage}`, { code: 'ORCHESTRATOR_RPC_FAILED' });
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

// Orchestrators present a fresh self-signed certificate: no chain or host name check. One credentials
// object for every call: building one loads the system CA store, ~10 ms of CPU each time.
let tlsCredentials: ChannelCredentials | undefined;
const orchestratorTls = (): ChannelCredentials =>
  (tlsCredentials ??= credentials.createSsl(null, null, null, { rejectUnauthorized: false, checkServerIdentity: () => undefined }));

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
  const creds = url.protocol === 'https:' ? orchestratorTls() : credentials.createInsecure();
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

const READY = 2;
const TRANSIENT_FAILURE = 3;
const SHUTDOWN = 4;

/**
 * Blocking dial: resolves once the channel is READY. grpc-js would keep retrying a refused
 * connection until the deadline; like a failed Go dial we give up on the first transient failure.
 */
function connectChannel(client: Client, deadline: number): Promise<void> {
  const channel = client.getChannel();
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => finish(Object.assign(new Error('connect timeout'), { timeout: true })), Math.max(0, deadline - Date.now()));
    const check = (): void => {
      if (settled) return;
      const state = channel.getConnectivityState(true);
      if (state === READY) return finish();
      if (state === TRANSIENT_FAILURE || state === SHUTDOWN) return finish(new Error('connection failed'));
      // grpc-js calls back at once, with an error, once the deadline has passed: stop there, or the
      // watch would re-arm itself on every tick and starve the timer.
      channel.watchConnectivityState(state, deadline, (err?: Error) => {
        if (err || Date.now() >= deadline) finish(Object.assign(new Error('connect timeout'), { timeout: true }));
        else check();
      });
    };
    check();
  });
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
    try {
      await connectChannel(client, connectDeadline);
    } catch (err) {
      const timedOut = (err as { timeout?: boolean }).timeout === true;
      throw fail(
        timedOut ? 'timeout' : 'connect',
        timedOut
          ? `could not connect within ${connectDeadline - started} ms`
          : 'could not connect; check the orchestrator is running and the URI scheme (https/http)',
      );
    }

    let decodeFailure: string | undefined;
    return await new Promise<Messages[Res]>((resolve, reject) => {
      // The reply's deadline counts the peer's time (docs/wire.md §2.2): a reply that came in time but is read late, after a
      // busy stretch of this event loop, still counts. The server is told a deadline a little later than
      // ours, so that grpc-js's own timer never expires before ours.
      let expired = false;
      const replyDeadline = startDeadline(Math.max(0, deadline - Date.now()), () => {
        expired = true;
        call.cancel();
      });
      const call = client.makeUnaryRequest<Messages[Req], Messages[Res]>(
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
        { deadline: deadline + SERVER_DEADLINE_SLACK_MS },
        (err: ServiceError | null, value?: Messages[Res]) => {
          replyDeadline.clear();
          if (!err && value !== undefined) return resolve(value);
          if (expired) return reject(fail('timeout', `no reply within ${deadline - started} ms`, GrpcCode.DEADLINE_EXCEEDED));
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
