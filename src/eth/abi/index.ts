// The Livepeer contract ABIs of Arbitrum One, one file per contract: what the gateway calls, plus the
// orchestrator's side (ticket redemption, fee withdrawal, service URI, round initialization) that the devnet
// orchestrator uses. Owner-only administration is not here.
export { bondingManagerAbi } from './bondingManager.ts';
export { controllerAbi } from './controller.ts';
export { livepeerTokenAbi } from './livepeerToken.ts';
export { minterAbi } from './minter.ts';
export { MULTICALL3_ADDRESS, multicall3Abi } from './multicall3.ts';
export { roundsManagerAbi } from './roundsManager.ts';
export { serviceRegistryAbi } from './serviceRegistry.ts';
export { ticketBrokerAbi } from './ticketBroker.ts';
export { priceFeedAbi } from './priceFeed.ts';
