// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// Registry of the devnet's contracts, looked up by keccak256(name) exactly like the Livepeer Controller.
// It starts paused (as the real one does) and the deploy script unpauses it once everything is registered.
// The owner checks revert without a reason string, as the protocol's Ownable/Pausable do.
contract Controller {
    struct ContractInfo {
        address contractAddress;
        bytes20 gitCommitHash;
    }

    address public owner;
    bool public paused;

    mapping(bytes32 => ContractInfo) private registry;

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event Pause();
    event Unpause();
    event SetContractInfo(bytes32 id, address contractAddress, bytes20 gitCommitHash);

    modifier onlyOwner() {
        require(msg.sender == owner);
        _;
    }

    constructor() {
        owner = msg.sender;
        paused = true;
    }

    function transferOwnership(address newOwner) external onlyOwner {
        require(newOwner != address(0));
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    function pause() external onlyOwner {
        require(!paused);
        paused = true;
        emit Pause();
    }

    function unpause() external onlyOwner {
        require(paused);
        paused = false;
        emit Unpause();
    }

    function setContractInfo(bytes32 _id, address _contractAddress, bytes20 _gitCommitHash) external onlyOwner {
        registry[_id] = ContractInfo(_contractAddress, _gitCommitHash);
        emit SetContractInfo(_id, _contractAddress, _gitCommitHash);
    }

    function getContractInfo(bytes32 _id) external view returns (address, bytes20) {
        ContractInfo storage info = registry[_id];
        return (info.contractAddress, info.gitCommitHash);
    }

    function getContract(bytes32 _id) external view returns (address) {
        return registry[_id].contractAddress;
    }
}
