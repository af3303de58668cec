// Tickets created and signed per second on one core: the cost of paying for segments.
// Run: npx tsx bench/tickets.ts [seconds]
import { cpus } from 'node:os';
import { hexToBytes } from '../src/lib/bytes.ts';
import { MAX_WIN_PROB } from '../src/pm/ev.ts';
import { TicketSender } from '../src/pm/sender.ts';
import { ecdsa, nobleEcdsa, type EcdsaBackend } from '../src/pm/ecdsa.ts';
import { privateKeySigner } from '../src/pm/signer.ts';
import { parseTicketParams } from '../src/pm/ticketParams.ts';
import { buildPayment } from '../src/pm/payment.ts';
import { encodeMessage } from '../src/wire/lpRpc.ts';

const seconds = Number(process.argv[2] ?? 5);
const KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';

let paramsCounter = 0;
function freshParams() {
  // a new recipientRandHash per batch, as orchestrators send new params with every reply
  const rand = (++paramsCounter).toString(16).padStart(64, '0');
  return parseTicketParams({
    recipient: hexToBytes(`0x${'0a'.repeat(20)}`),
    faceValue: hexToBytes('0x038d7ea4c68000'),
    winProb: hexToBytes(`0x${(MAX_WIN_PROB / 125_000n).toString(16)}`),
    recipientRandHash: hexToBytes(`0x${rand}`),
    seed: hexToBytes('0x01'),
    expirationBlock: hexToBytes('0xffff'),
    expirationParams: { creationRound: 5n, creationRoundBlockHash: hexToBytes(`0x${'22'.repeat(32)}`) },
  });
}

function run(backend: EcdsaBackend, batchSize: number): { tickets: number; perSecond: number } {
  const signer = privateKeySigner(KEY, backend);
  const sender = new TicketSender(signer, () => ({ creationRound: 1n, creationRoundBlockHash: `0x${'11'.repeat(32)}` }));
  const deadline = performance.now() + seconds * 1000;
  let tickets = 0;
  while (performance.now() < deadline) {
    const batch = sender.createBatch(freshParams(), batchSize);
    // include building and encoding the Payment header, as a segment submit does
    Buffer.from(encodeMessage('Payment', buildPayment(signer.address, { pricePerUnit: 1n, pixelsPerUnit: 1n }, batch))).toString('base64');
    tickets += batch.tickets.length;
  }
  return { tickets, perSecond: tickets / seconds };
}

// The signer in use and @noble/curves side by side, interleaved, so the ratio holds on a busy machine.
const backends = ecdsa === nobleEcdsa ? [ecdsa] : [ecdsa, nobleEcdsa];
for (const b of backends) run(b, 1); // warm-up (JIT, noble precomputation)
console.log(`machine: ${cpus()[0]?.model ?? 'unknown cpu'}, node ${process.version}, one thread`);
for (const batchSize of [1, 10]) {
  const rates = backends.map((b) => {
    const r = run(b, batchSize);
    console.log(
      `batch ${String(batchSize).padStart(2)}, ${b.name.padEnd(13)}: ${r.perSecond.toFixed(0)} tickets/s created, signed and encoded (${r.tickets} in ${seconds}s)`,
    );
    return r.perSecond;
  });
  if (rates.length === 2)
    console.log(`batch ${String(batchSize).padStart(2)}: ${backends[0]!.name} / ${backends[1]!.name} = ${(rates[0]! / rates[1]!).toFixed(1)}×`);
}
