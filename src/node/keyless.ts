// A keyless gateway (-remoteSignerUrl): no keystore, no chain connection. The remote signer gives the
// GetOrchestrator identity, pays AI jobs (billing type "") and signs video segments with their tickets
// (our signer's segment extension). Start-up asks the signer for the identity and fails when it cannot.
import type { AiPayer } from '../ai/payment.ts';
import { remoteAiPayer } from '../ai/remotePayment.ts';
import { hexToBytes } from '../lib/bytes.ts';
import type { Logger } from '../lib/log.ts';
import { RemoteSignerClient } from '../net/remoteSigner.ts';
import type { RemoteSignerClientConfig } from './config.ts';
import { remoteSegmentPayer, type RemoteSegmentPayer } from './remoteSegmentPayer.ts';

export interface KeylessPayments {
  client: RemoteSignerClient;
  /** the signer's address (it pays: the orchestrators see it as the sender) */
  address: `0x${string}`;
  identity: { address: Uint8Array; sig: Uint8Array };
  aiPayer: AiPayer;
  segments: RemoteSegmentPayer;
}

export async function startKeylessPayments(config: RemoteSignerClientConfig, log: Logger): Promise<KeylessPayments> {
  const client = new RemoteSignerClient({ url: config.url, headers: config.headers });
  const id = await client.orchestratorIdentity();
  log.info({ signer: config.url, address: id.address }, 'keyless gateway: paying through the remote signer');
  return {
    client,
    address: id.address,
    identity: { address: hexToBytes(id.address), sig: hexToBytes(id.signature) },
    aiPayer: remoteAiPayer(client, log.child({ component: 'remote-signer' })),
    segments: remoteSegmentPayer(client),
  };
}
