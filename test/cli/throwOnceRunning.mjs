// Preloaded (node --import) into the gateway binary by gatewayShutdown.test.ts: once the node says it
// runs, a timer callback throws, as a bug in a stream or peer callback would.
const write = process.stdout.write.bind(process.stdout);
let armed = false;
process.stdout.write = (chunk, ...rest) => {
  if (!armed && String(chunk).includes('CLI server listening on')) {
    armed = true;
    setTimeout(() => {
      throw new Error('injected failure in a timer callback');
    }, 50);
  }
  return write(chunk, ...rest);
};
