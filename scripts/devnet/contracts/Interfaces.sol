// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// Interfaces the devnet contracts use to reach each other through the Controller registry,
// with the same function signatures as the Livepeer protocol contracts on Arbitrum One.

interface IController {
    function owner() external view returns (address);

    function paused() external view returns (bool);

    function getContract(bytes32 _id) external view returns (address);
}

interface IBondingManager {
    function updateTranscoderWithFees(address _transcoder, uint256 _fees, uint256 _round) external;

    function setCurrentRoundTotalActiveStake() external;

    function getTranscoderPoolSize() external view returns (uint256);

    function isActiveTranscoder(address _transcoder) external view returns (bool);

    function isRegisteredTranscoder(address _transcoder) external view returns (bool);
}

interface IRoundsManager {
    function currentRound() external view returns (uint256);

    function currentRoundInitialized() external view returns (bool);

    function currentRoundLocked() external view returns (bool);

    function blockHashForRound(uint256 _round) external view returns (bytes32);
}

interface IMinter {
    function depositETH() external payable returns (bool);

    function trustedWithdrawETH(address payable _to, uint256 _amount) external;
}
