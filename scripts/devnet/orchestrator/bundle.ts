// The orchestrator's command line (main.ts) as one JavaScript file, packages included, for the runs that
// start orchestrator processes on the bench's own core (bench/load.ts, bench/soak.ts, bench/chaos.ts).
// Under `--import tsx` each start resolves and compiles every module of the project through the loader's
// hooks and then loads viem's hundreds of files; the bundle is made once per run and read as one file.
import { mkdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
/** Inside the project, so that what is still required at run time (native addons) is found from it. */
const BUILD_DIR = fileURLToPath(new URL('../../../build/', import.meta.url));

/**
 * Modules find files beside themselves (proto/, build/, the dashboard) from their own `import.meta.url`;
 * in one bundle they would all read the bundle's. Each keeps its own: the URL of its source file.
 */
const ownImportMetaUrl: Plugin = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const url = JSON.stringify(pathToFileURL(args.path).href);
      return { contents: source.replaceAll('import.meta.url', url), loader: 'ts' };
    });
  },
};

/**
 * Writes build/devnet-orchestrator.mjs from the sources as they are now and returns its path (start it
 * with `node <path> [flags]`). Written beside and renamed, so a run bundling at the same moment as another
 * never starts half a file.
 */
export async function bundleOrchestrator(): Promise<string> {
  await mkdir(BUILD_DIR, { recursive: true });
  const outfile = join(BUILD_DIR, 'devnet-orchestrator.mjs');
  const partial = `${outfile}.${process.pid}.partial`;
  await build({
    entryPoints: [MAIN],
    outfile: partial,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // packages written as CommonJS call require(), which an ES module lacks
    banner: { js: "import { createRequire as createRequireForBundle } from 'node:module'; const require = createRequireForBundle(import.meta.url);" },
    plugins: [ownImportMetaUrl],
    logLevel: 'silent',
  });
  await rename(partial, outfile);
  return outfile;
}
