// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import "./Manager.sol";

// Where orchestrators publish their service URI. setServiceURI has no pause check, like the real one.
contract ServiceRegistry is Manager {
    mapping(address => string) private serviceURIs;

    event ServiceURIUpdate(address indexed addr, string serviceURI);

    constructor(address _controller) Manager(_controller) {}

    function setServiceURI(string calldata _serviceURI) external {
        _setServiceURI(msg.sender, _serviceURI);
    }

    function getServiceURI(address _addr) external view returns (string memory) {
        return serviceURIs[_addr];
    }

    // Devnet only: lets the Controller owner give many orchestrators a URI without holding their keys.
    function devSetServiceURI(address _addr, string calldata _serviceURI) external onlyControllerOwner {
        _setServiceURI(_addr, _serviceURI);
    }

    function _setServiceURI(address _addr, string calldata _serviceURI) private {
        serviceURIs[_addr] = _serviceURI;
        emit ServiceURIUpdate(_addr, _serviceURI);
    }
}
