// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import "./Manager.sol";

// Rounds counted from block numbers, as on Arbitrum (where block.number is the L1 estimate).
// The round length is fixed at deploy (small on the devnet) and can be changed by the Controller owner.
contract RoundsManager is Manager {
    uint256 private constant PERC_DIVISOR = 1000000;

    uint256 public roundLength;
    uint256 public roundLockAmount;
    uint256 public lastInitializedRound;
    uint256 public lastRoundLengthUpdateRound;
    uint256 public lastRoundLengthUpdateStartBlock;

    mapping(uint256 => bytes32) private roundBlockHashes;

    event NewRound(uint256 indexed round, bytes32 blockHash);

    constructor(address _controller, uint256 _roundLength, uint256 _roundLockAmount) Manager(_controller) {
        require(_roundLength > 0, "round length cannot be 0");
        require(_roundLockAmount <= PERC_DIVISOR, "round lock amount must be a valid percentage");
        roundLength = _roundLength;
        roundLockAmount = _roundLockAmount;
        // Round numbers continue from block 0, so round N starts at block N * roundLength.
        lastRoundLengthUpdateRound = block.number / _roundLength;
        lastRoundLengthUpdateStartBlock = lastRoundLengthUpdateRound * _roundLength;
    }

    function setRoundLength(uint256 _roundLength) external onlyControllerOwner {
        require(_roundLength > 0, "round length cannot be 0");
        lastRoundLengthUpdateRound = currentRound();
        lastRoundLengthUpdateStartBlock = currentRoundStartBlock();
        roundLength = _roundLength;
        emit ParameterUpdate("roundLength");
    }

    function setRoundLockAmount(uint256 _roundLockAmount) external onlyControllerOwner {
        require(_roundLockAmount <= PERC_DIVISOR, "round lock amount must be a valid percentage");
        roundLockAmount = _roundLockAmount;
        emit ParameterUpdate("roundLockAmount");
    }

    function initializeRound() external whenSystemNotPaused {
        uint256 round = currentRound();
        require(lastInitializedRound < round, "round already initialized");

        lastInitializedRound = round;
        bytes32 roundBlockHash = blockHash(blockNum() - 1);
        roundBlockHashes[round] = roundBlockHash;
        bondingManager().setCurrentRoundTotalActiveStake();

        emit NewRound(round, roundBlockHash);
    }

    function blockNum() public view returns (uint256) {
        return block.number;
    }

    function blockHash(uint256 _block) public view returns (bytes32) {
        uint256 currentBlock = blockNum();
        require(_block < currentBlock, "can only retrieve past block hashes");
        require(currentBlock < 256 || _block >= currentBlock - 256, "can only retrieve hashes for last 256 blocks");
        return blockhash(_block);
    }

    function blockHashForRound(uint256 _round) external view returns (bytes32) {
        return roundBlockHashes[_round];
    }

    function currentRound() public view returns (uint256) {
        return lastRoundLengthUpdateRound + (blockNum() - lastRoundLengthUpdateStartBlock) / roundLength;
    }

    function currentRoundStartBlock() public view returns (uint256) {
        uint256 roundsSinceUpdate = (blockNum() - lastRoundLengthUpdateStartBlock) / roundLength;
        return lastRoundLengthUpdateStartBlock + roundsSinceUpdate * roundLength;
    }

    function currentRoundInitialized() external view returns (bool) {
        return lastInitializedRound == currentRound();
    }

    function currentRoundLocked() external view returns (bool) {
        uint256 lockedBlocks = (roundLength * roundLockAmount) / PERC_DIVISOR;
        return blockNum() - currentRoundStartBlock() >= roundLength - lockedBlocks;
    }
}
