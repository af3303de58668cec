// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// An ETH/USD price feed with Chainlink's AggregatorV3 read interface, so a gateway's currency prices
// (-maxPricePerUnit 0.5USD) work on the devnet. The deployer sets the answer.
contract PriceFeed {
    address public owner;
    uint8 public immutable decimals;
    string public description;
    int256 private latestAnswer;
    uint80 private latestRound;
    uint256 private latestUpdate;

    constructor(uint8 _decimals, int256 _answer, string memory _description) {
        owner = msg.sender;
        decimals = _decimals;
        description = _description;
        _set(_answer);
    }

    function setAnswer(int256 _answer) external {
        require(msg.sender == owner, "only owner");
        _set(_answer);
    }

    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        return (latestRound, latestAnswer, latestUpdate, latestUpdate, latestRound);
    }

    function _set(int256 _answer) private {
        latestAnswer = _answer;
        latestRound += 1;
        latestUpdate = block.timestamp;
    }
}
