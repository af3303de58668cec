// The devnet's one error type: a local network that could not be set up, with what to do about it.
import { GatewayError } from '../../src/lib/errors.ts';

export class DevnetError extends GatewayError {}
