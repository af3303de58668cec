// The pool walker: creation code run by eth_call (never deployed) that walks the BondingManager's
// linked list on the node and returns the pool in order, so the walk is one request whatever the pool size.
// Its Solidity source is below; test/eth/poolWalker.test.ts recompiles it and checks the bytecode.
import type { Hex } from 'viem';

export const POOL_WALKER_SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

interface ITranscoderPool {
    function getFirstTranscoderInPool() external view returns (address);
    function getNextTranscoderInPool(address _transcoder) external view returns (address);
}

// Never deployed: eth_call runs this constructor as creation code and gets the pool order back,
// so walking the linked list costs one request instead of one per orchestrator.
contract PoolWalker {
    constructor(ITranscoderPool _bondingManager, uint256 _max) {
        address[] memory pool = new address[](_max);
        uint256 n = 0;
        address a = _bondingManager.getFirstTranscoderInPool();
        while (a != address(0) && n < _max) {
            pool[n++] = a;
            a = _bondingManager.getNextTranscoderInPool(a);
        }
        assembly {
            mstore(pool, n)
        }
        bytes memory out = abi.encode(pool);
        assembly {
            return(add(out, 32), mload(out))
        }
    }
}
`;

/** solc settings the bytecode was built with (solc-js 0.8.37; no metadata, so it is reproducible). */
export const POOL_WALKER_SOLC_SETTINGS = {
  evmVersion: 'paris',
  optimizer: { enabled: true, runs: 200 },
  metadata: { appendCBOR: false },
} as const;

export const POOL_WALKER_BYTECODE = ('0x' +
  '608060405234801561001057600080fd5b506040516102d03803806102d083398101604081905261002f916101de565b6000' +
  '816001600160401b038111156100495761004961020c565b6040519080825280602002602001820160405280156100725781' +
  '60200160208202803683370190505b509050600080846001600160a01b03166388a6c7496040518163ffffffff1660e01b81' +
  '52600401602060405180830381865afa1580156100b6573d6000803e3d6000fd5b505050506040513d601f19601f82011682' +
  '0180604052508101906100da9190610222565b90505b6001600160a01b038116158015906100f457508382105b1561019757' +
  '80838361010581610246565b9450815181106101175761011761026d565b6001600160a01b03928316602091820292909201' +
  '015260405163235c960360e01b815282821660048201529086169063235c960390602401602060405180830381865afa1580' +
  '1561016c573d6000803e3d6000fd5b505050506040513d601f19601f82011682018060405250810190610190919061022256' +
  '5b90506100dd565b8183526000836040516020016101ad9190610283565b6040516020818303038152906040529050805160' +
  '208201f35b6001600160a01b03811681146101db57600080fd5b50565b600080604083850312156101f157600080fd5b8251' +
  '6101fc816101c6565b6020939093015192949293505050565b634e487b7160e01b600052604160045260246000fd5b600060' +
  '20828403121561023457600080fd5b815161023f816101c6565b9392505050565b60006001820161026657634e487b7160e0' +
  '1b600052601160045260246000fd5b5060010190565b634e487b7160e01b600052603260045260246000fd5b602080825282' +
  '518282018190526000918401906040840190835b818110156102c45783516001600160a01b03168352602093840193909201' +
  '9160010161029d565b50909594505050505056fe') as Hex;
