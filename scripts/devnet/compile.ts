// Compiles the devnet's Solidity contracts with solc-js and caches the result on disk, keyed by a hash
// of the sources, compiler version and settings, so only the first start after a change pays for solc.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Abi, Hex } from 'viem';
import { DevnetError } from './errors.ts';

const here = dirname(fileURLToPath(import.meta.url));
const CONTRACTS_DIR = join(here, 'contracts');
const DEFAULT_CACHE_DIR = resolve(here, '..', '..', '.devnet', 'artifacts');

// Cancun is what Arbitrum One runs today and what every recent anvil supports.
const SETTINGS = {
  evmVersion: 'cancun',
  optimizer: { enabled: true, runs: 200 },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
} as const;

export interface ContractArtifact {
  abi: Abi;
  /** Creation code (constructor arguments are appended by the deployer). */
  bytecode: Hex;
  /** Runtime code, e.g. for anvil_setCode. */
  deployedBytecode: Hex;
}

export interface DevnetArtifacts {
  /** sha256 over compiler version, settings and sources (hex, no prefix). */
  sourceHash: string;
  solcVersion: string;
  contracts: Record<string, ContractArtifact>;
}

export interface CompileResult {
  artifacts: DevnetArtifacts;
  /** True when the artifacts came from the on-disk cache. */
  cached: boolean;
}

export function contractsDir(): string {
  return CONTRACTS_DIR;
}

/** All `.sol` files of the devnet, keyed by file name (the solc source unit name). */
export async function readSources(): Promise<Record<string, string>> {
  const names = (await readdir(CONTRACTS_DIR)).filter((n) => n.endsWith('.sol')).sort();
  const sources: Record<string, string> = {};
  for (const name of names) sources[name] = await readFile(join(CONTRACTS_DIR, name), 'utf8');
  return sources;
}

function solcPackageVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('solc/package.json') as { version: string }).version;
}

function hashSources(version: string, sources: Record<string, string>): string {
  const h = createHash('sha256');
  h.update(`solc ${version}\n${JSON.stringify(SETTINGS)}\n`);
  for (const [name, text] of Object.entries(sources)) h.update(`${name}\n${text.length}\n${text}`);
  return h.digest('hex');
}

interface SolcError {
  severity: 'error' | 'warning' | 'info';
  formattedMessage: string;
}

interface SolcOutput {
  errors?: SolcError[];
  contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>>;
}

async function runSolc(sources: Record<string, string>): Promise<{ version: string; output: SolcOutput }> {
  // solc-js is a large emscripten module: load it only when the cache misses.
  const { default: solc } = await import('solc');
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries(Object.entries(sources).map(([name, content]) => [name, { content }])),
    settings: SETTINGS,
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput;
  return { version: String(solc.version()), output };
}

/**
 * Returns the compiled devnet contracts, from `cacheDir` when the sources are unchanged, otherwise by
 * running solc and writing the cache. Throws with solc's messages when the sources do not compile.
 */
export async function compileDevnetContracts(opts: { cacheDir?: string } = {}): Promise<CompileResult> {
  const cacheDir = opts.cacheDir ?? DEFAULT_CACHE_DIR;
  const sources = await readSources();
  const sourceHash = hashSources(solcPackageVersion(), sources);
  const cacheFile = join(cacheDir, `${sourceHash}.json`);

  try {
    const artifacts = JSON.parse(await readFile(cacheFile, 'utf8')) as DevnetArtifacts;
    if (artifacts.sourceHash === sourceHash) return { artifacts, cached: true };
  } catch {
    // Missing or unreadable cache entry: compile below.
  }

  const { version, output } = await runSolc(sources);
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    throw new DevnetError(`devnet contracts do not compile:\n${errors.map((e) => e.formattedMessage).join('\n')}`);
  }

  const contracts: Record<string, ContractArtifact> = {};
  for (const unit of Object.values(output.contracts ?? {})) {
    for (const [name, c] of Object.entries(unit)) {
      if (!c.evm.bytecode.object) continue; // interfaces and abstract contracts
      contracts[name] = {
        abi: c.abi,
        bytecode: `0x${c.evm.bytecode.object}`,
        deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
      };
    }
  }
  const artifacts: DevnetArtifacts = { sourceHash, solcVersion: version, contracts };

  // Write to a private temporary name and rename, so parallel starts never read a half-written file.
  await mkdir(cacheDir, { recursive: true });
  const tmp = `${cacheFile}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, JSON.stringify(artifacts));
  await rename(tmp, cacheFile);
  return { artifacts, cached: false };
}

/** Looks up one compiled contract, failing with a clear message when the name is unknown. */
export function artifact(artifacts: DevnetArtifacts, name: string): ContractArtifact {
  const a = artifacts.contracts[name];
  if (!a) throw new DevnetError(`devnet artifact ${name} not found (have: ${Object.keys(artifacts.contracts).join(', ')})`);
  return a;
}
