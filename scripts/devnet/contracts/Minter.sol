// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import "./Manager.sol";

// Holds the broadcasters' ETH. As on the real network only the contract registered as "JobsManager"
// (the TicketBroker) may deposit, and only the BondingManager or JobsManager may pay out.
contract Minter is Manager {
    constructor(address _controller) Manager(_controller) {}

    function depositETH() external payable returns (bool) {
        require(
            msg.sender == controller.getContract(keccak256("Minter")) ||
                msg.sender == controller.getContract(keccak256("JobsManager")),
            "msg.sender not Minter or JobsManager"
        );
        return true;
    }

    function trustedWithdrawETH(address payable _to, uint256 _amount) external whenSystemNotPaused {
        require(
            msg.sender == controller.getContract(keccak256("BondingManager")) ||
                msg.sender == controller.getContract(keccak256("JobsManager")),
            "msg.sender not BondingManager or JobsManager"
        );
        // transfer (2300 gas stipend) as in the real Minter: a contract sender with a costly receive cannot withdraw.
        _to.transfer(_amount);
    }

    function getController() external view returns (IController) {
        return controller;
    }
}
