// Who may use the control API on -cliAddr. Whoever reaches it can move the deposit (fund, unlock,
// withdraw), lift the price cap and read the node's state. Loopback: this machine only. A private
// network (e.g. Docker, where livepeer_cli -host cannot send a token): allowed with a warning. A public
// address: refused unless -cliToken is set.
import { resolvePassword } from '../eth/keystore.ts';
import { listenScope } from '../lib/addressScope.ts';
import { GatewayError } from '../lib/errors.ts';
import { formatHost } from '../lib/listenAddr.ts';
import type { Logger } from '../lib/log.ts';
import { type AccessCheck, bearerTokenCheck } from '../server/access.ts';
import type { NodeConfig } from './config.ts';

export class ControlAccessError extends GatewayError {}

const WHAT_THEY_CAN_DO =
  'fund, unlock and withdraw the TicketBroker deposit, change the max price and transcoding options, and read streams, ledger and account';

/** The control API's credential checks (empty = none); throws ControlAccessError on a public bind without a token. */
export async function controlAccess(config: NodeConfig, log: Logger): Promise<AccessCheck[]> {
  const token = config.cliToken ? await resolvePassword(config.cliToken) : '';
  const { host, port } = config.cliAddr;
  const scope = await listenScope(host);
  const addr = `${formatHost(host)}:${port}`;
  if (scope === 'public' && !token) {
    throw new ControlAccessError(
      `-cliAddr ${addr} is reachable from public networks, where anyone could ${WHAT_THEY_CAN_DO}. Set -cliToken (a token or a file holding it), or bind -cliAddr to loopback or a private network`,
    );
  }
  if (scope !== 'loopback') {
    log.warn(
      { cliAddr: addr, scope, token: token ? 'required' : 'none' },
      token
        ? `control API on ${addr} (${scope} network) requires -cliToken; anyone holding it can ${WHAT_THEY_CAN_DO}`
        : `control API on ${addr} (${scope} network) has no -cliToken: anyone who can reach it can ${WHAT_THEY_CAN_DO}`,
    );
  }
  return token ? [bearerTokenCheck(token)] : [];
}
