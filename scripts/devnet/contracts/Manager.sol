// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import "./Interfaces.sol";

// Base of every registry-managed devnet contract: knows the Controller, honours its pause switch and
// lets the Controller owner change parameters. Revert strings match the protocol's Manager.
abstract contract Manager {
    IController public controller;

    event SetController(address controller);
    event ParameterUpdate(string param);

    modifier onlyControllerOwner() {
        require(msg.sender == controller.owner(), "caller must be Controller owner");
        _;
    }

    modifier whenSystemNotPaused() {
        require(!controller.paused(), "system is paused");
        _;
    }

    constructor(address _controller) {
        controller = IController(_controller);
    }

    function bondingManager() internal view returns (IBondingManager) {
        return IBondingManager(controller.getContract(keccak256("BondingManager")));
    }

    function roundsManager() internal view returns (IRoundsManager) {
        return IRoundsManager(controller.getContract(keccak256("RoundsManager")));
    }

    function minter() internal view returns (IMinter) {
        return IMinter(controller.getContract(keccak256("Minter")));
    }
}
