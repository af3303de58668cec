// The Livepeer contract ABIs of Arbitrum One that the gateway calls, one file per contract.
export { bondingManagerAbi } from './bondingManager.ts';
export { controllerAbi } from './controller.ts';
export { livepeerTokenAbi } from './livepeerToken.ts';
export { minterAbi } from './minter.ts';
export { MULTICALL3_ADDRESS, multicall3Abi } from './multicall3.ts';
export { roundsManagerAbi } from './roundsManager.ts';
export { serviceRegistryAbi } from './serviceRegistry.ts';
export { ticketBrokerAbi } from './ticketBroker.ts';
