// The layer rule (docs/architecture.md): a folder of src/ imports only from folders in layers below
// its own, never from a folder above it or beside it. Layers, top to bottom:
const LAYERS = [
  ['cli'], // command line: flags → config, subcommands
  ['node'], // wires the stages together; owns NodeConfig
  ['ingest', 'server', 'ai', 'signer'], // faces: RTMP/push, HTTP faces, AI routes, remote signer
  ['tenancy'], // API keys, limits, usage attribution
  ['discovery'], // candidates and selection
  ['store'], // what survives a restart
  ['net', 'eth'], // orchestrators; the chain
  ['pm'], // probabilistic micropayments
  ['wire'], // protobuf messages (a leaf every layer above may read)
  ['media'], // profiles, segmenting, playlists, probing
  ['lib'], // the foundation
];

const folder = (names) => `^src/(${names.join('|')})/`;
const forbidden = [
  {
    name: 'no-circular',
    severity: 'error',
    comment: 'modules must not import each other in a loop',
    from: { path: '^src/' },
    to: { circular: true },
  },
  {
    name: 'src-stays-in-src',
    severity: 'error',
    comment: 'the product never imports tests, scripts or benchmarks',
    from: { path: '^src/' },
    to: { path: '^(test|scripts|bench)/' },
  },
];
LAYERS.forEach((layer, i) => {
  const above = LAYERS.slice(0, i).flat();
  for (const name of layer) {
    const beside = layer.filter((n) => n !== name);
    const targets = [...above, ...beside];
    if (targets.length === 0) continue;
    forbidden.push({
      name: `layer-${name}`,
      severity: 'error',
      comment: `src/${name} may only import from layers below it`,
      from: { path: `^src/${name}/` },
      to: { path: folder(targets) },
    });
  }
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
