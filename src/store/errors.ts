// What can go wrong with the state store, in words that say what to change. Messages never carry the
// credentials of -storeUrl (they name the server as host:port only).
import { GatewayError, type GatewayErrorOptions } from '../lib/errors.ts';

/** An argument the store refuses before it costs a round trip: bad namespace, oversized key or value… */
export class StoreInputError extends GatewayError {
  constructor(message: string, opts: GatewayErrorOptions = {}) {
    super(message, { code: 'StoreInput', ...opts });
  }
}

/** -storeUrl is not a PostgreSQL URL this gateway can use. */
export class StoreUrlError extends GatewayError {
  constructor(message: string, opts: GatewayErrorOptions = {}) {
    super(message, { code: 'StoreUrl', ...opts });
  }
}

/** The store could not be reached or refused us (start-up or later); the operation did not happen. */
export class StoreUnavailableError extends GatewayError {
  constructor(message: string, opts: GatewayErrorOptions = {}) {
    super(message, { code: 'StoreUnavailable', ...opts });
  }
}

/** The database schema cannot be brought to what this version expects; nothing was changed. */
export class MigrationError extends GatewayError {
  constructor(message: string, opts: GatewayErrorOptions = {}) {
    super(message, { code: 'StoreMigration', ...opts });
  }
}

/** The node's Level database cannot be used (in use by another process, unreadable, not open). */
export class StoreError extends GatewayError {
  constructor(message: string, opts: { code?: string; cause?: unknown } = {}) {
    super(message, { code: opts.code ?? 'STORE', cause: opts.cause });
  }
}

/** The data directory belongs to another chain than the RPC serves. */
export class DatadirChainMismatchError extends StoreError {
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`expecting chainID of ${expected}, but got ${actual}. Did you change networks without changing network name or datadir?`, {
      code: 'DATADIR_CHAIN_MISMATCH',
    });
  }
}
