// `livepeer-gateway keys create|list|revoke|show` and `usage export`: API keys and their usage on the
// state store the gateway uses (-storeUrl PostgreSQL, or the Level DB in -datadir — which one process
// opens at a time, so with Level these run while the gateway is stopped).
import { type Command, Option } from 'commander';
import { silentLogger } from '../lib/log.ts';
import { openStateStore } from '../store/openStateStore.ts';
import type { StateStore } from '../store/stateStore.ts';
import { type ApiKeyInfo, ApiKeys } from '../tenancy/apiKeys.ts';
import { TenancyInputError } from '../tenancy/errors.ts';
import { formatMicroUsd, type Limits, resolveLimits, TIERS } from '../tenancy/limits.ts';
import { StreamKeys } from '../tenancy/streamKeys.ts';
import { csvHeader, csvLine, usageLines } from '../tenancy/usage.ts';
import { parseUsageQuery } from '../tenancy/usageQuery.ts';
import { defaultDataDir } from './account.ts';
import { FlagError } from './flags.ts';
import type { Io } from './io.ts';
import { addNodeFlags, flagValues } from './program.ts';

/** Value flags of these commands (besides the node's), for the Go-style argument normalizer. */
export const KEYS_VALUE_FLAGS = [
  'name',
  'tier',
  'requestsPerMinute',
  'concurrentStreams',
  'spendPerDay',
  'spendPerMonth',
  'format',
  'from',
  'to',
  'key',
] as const;

const STORE_FLAGS = ['network', 'datadir', 'storeUrl', 'config'];

async function withStore<T>(values: Map<string, string>, run: (store: StateStore) => Promise<T>): Promise<T> {
  const storeUrl = values.get('storeUrl') ?? '';
  const datadir = values.get('datadir') || defaultDataDir(values.get('network') || 'offchain');
  const store = await openStateStore({ ...(storeUrl ? { storeUrl } : {}), datadir, log: silentLogger() });
  try {
    return await run(store);
  } finally {
    await store.close();
  }
}

const cap = (wei: bigint | undefined, microUsd: bigint | undefined): string =>
  microUsd !== undefined ? formatMicroUsd(microUsd) : wei !== undefined ? `${wei} wei` : 'none';

function describeLimits(l: Limits): string {
  const parts = [
    `${l.requestsPerMinute ?? 'unlimited'} requests/min`,
    `${l.concurrentStreams ?? 'unlimited'} concurrent streams`,
    `spend cap ${cap(l.spendPerDayWei, l.spendPerDayMicroUsd)}/day, ${cap(l.spendPerMonthWei, l.spendPerMonthMicroUsd)}/month`,
  ];
  return parts.join(', ');
}

function keyLine(k: ApiKeyInfo): string {
  const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active';
  return `${k.id}  ${JSON.stringify(k.name)}  tier ${k.tier}  ${state}  created ${k.createdAt.toISOString()}  last used ${k.lastUsedAt?.toISOString() ?? 'never'}`;
}

const input = (err: unknown): never => {
  if (err instanceof TenancyInputError) throw new FlagError(err.message);
  throw err;
};

export function registerKeysCommands(program: Command, io: Io): void {
  const keys = program.command('keys').description('API keys of a managed provider (-apiKeys): create, list, revoke, show');
  const sub = (name: string, description: string, extra: (cmd: Command) => void, run: (values: Map<string, string>, args: string[]) => Promise<void>) => {
    const cmd = keys.command(name).description(description);
    addNodeFlags(cmd, STORE_FLAGS);
    extra(cmd);
    cmd.action(async () => {
      const values = flagValues(cmd);
      await run(values, cmd.args).catch(input);
    });
    return cmd;
  };

  sub(
    'create',
    'Create a key; its secret (and an RTMP stream key) are printed this once',
    (cmd) => {
      cmd.addOption(new Option('--name <name>', 'Who the key is for').makeOptionMandatory());
      cmd.addOption(new Option('--tier <tier>', `Limits to start from: ${Object.keys(TIERS).join(', ')}`).default('free'));
      cmd.addOption(new Option('--requestsPerMinute <n>', "Requests per minute (default: the tier's)"));
      cmd.addOption(new Option('--concurrentStreams <n>', "Streams at once (default: the tier's)"));
      cmd.addOption(new Option('--spendPerDay <cap>', "Spend cap per UTC day: wei, or USD as 5USD (default: the tier's)"));
      cmd.addOption(new Option('--spendPerMonth <cap>', "Spend cap per calendar month: wei, or USD as 100USD (default: the tier's)"));
    },
    async (v) => {
      const tier = v.get('tier') ?? 'free';
      const limits = resolveLimits(tier, {
        requestsPerMinute: v.get('requestsPerMinute') ?? '',
        concurrentStreams: v.get('concurrentStreams') ?? '',
        spendPerDay: v.get('spendPerDay') ?? '',
        spendPerMonth: v.get('spendPerMonth') ?? '',
      });
      await withStore(v, async (store) => {
        const { token, key } = await new ApiKeys(store).create({ name: v.get('name') ?? '', tier, limits });
        const sk = await new StreamKeys(store).create(key.id);
        io.out.write(`${token}\n`);
        io.err.write(
          [
            `API key ${key.id} (${JSON.stringify(key.name)}, tier ${tier}): ${describeLimits(limits)}`,
            'The secret above is shown only now; the gateway keeps a hash of it. Send it as "Authorization: Bearer <key>".',
            `RTMP: publish to rtmp://<host>/live/${sk.streamKey} (shown only now); playback at /stream/${sk.playbackId}.m3u8`,
            '',
          ].join('\n'),
        );
      });
    },
  );

  sub(
    'list',
    'List every key (ids, names, tiers, state, created, last used)',
    () => {},
    async (v) => {
      await withStore(v, async (store) => {
        for (const k of await new ApiKeys(store).list()) io.out.write(`${keyLine(k)}\n`);
      });
    },
  );

  const one = (name: string, description: string, run: (keys: ApiKeys, id: string) => Promise<void>) =>
    sub(
      name,
      description,
      (cmd) => cmd.argument('<id>', 'key id (from keys list)'),
      async (v, args) => {
        await withStore(v, (store) => run(new ApiKeys(store), args[0] ?? ''));
      },
    );
  one('show', 'Show one key and its limits', async (keys, id) => {
    const k = await keys.get(id);
    if (!k) throw new FlagError(`no key ${JSON.stringify(id)}`);
    io.out.write(`${keyLine(k)}\nlimits: ${describeLimits(k.limits)}\n`);
  });
  one('revoke', 'Revoke a key: its requests and streams are refused from now on (its usage stays)', async (keys, id) => {
    if (!(await keys.revoke(id))) throw new FlagError(`no key ${JSON.stringify(id)}`);
    io.out.write(`revoked ${id}\n`);
  });

  const usage = program.command('usage').description('Usage per API key, for invoicing');
  const exp = usage
    .command('export')
    .description('Every paid job (AI request or segment) of a range: time, key, orchestrator, pipeline/model or stream, units, EV and face value')
    .addOption(new Option('--format <format>', 'csv or json').choices(['csv', 'json']).default('csv'))
    .addOption(new Option('--key <id>', 'One key (default: all)'))
    .addOption(new Option('--from <date>', 'Start, inclusive (default: the first of this month, UTC)'))
    .addOption(new Option('--to <date>', 'End, exclusive (default: now)'));
  addNodeFlags(exp, STORE_FLAGS);
  exp.action(async () => {
    const v = flagValues(exp);
    const q = (() => {
      try {
        return parseUsageQuery((n) => v.get(n));
      } catch (err) {
        return input(err);
      }
    })();
    await withStore(v, async (store) => {
      const json = v.get('format') === 'json';
      io.out.write(json ? '[' : csvHeader());
      let first = true;
      for await (const line of usageLines(store, q)) {
        io.out.write(json ? `${first ? '\n' : ',\n'}${JSON.stringify(line)}` : csvLine(line));
        first = false;
      }
      if (json) io.out.write(first ? ']\n' : '\n]\n');
    });
  });
}
