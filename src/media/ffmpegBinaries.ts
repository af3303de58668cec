// Which ffmpeg and ffprobe the gateway runs. Every spawn of either goes through here, so the whole process
// uses one binary of each. Order: FFMPEG_PATH / FFPROBE_PATH, then the system PATH, then the static builds
// that the @ffmpeg-installer/@ffprobe-installer npm packages carry (so `npm ci` alone is enough on a machine
// without ffmpeg; nothing is downloaded at install time).
import { execFile } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import which from 'which';
import { GatewayError } from '../lib/errors.ts';

export type MediaToolName = 'ffmpeg' | 'ffprobe';

export interface MediaTool {
  name: MediaToolName;
  path: string;
  /** Where it was found: the environment variable, "PATH", or the npm package name. */
  source: string;
  /** Environment variables a child running it needs on top of the process's. */
  env: Record<string, string>;
}

export interface MediaToolVersion extends MediaTool {
  /** The version the binary prints (`ffmpeg version <this>`). */
  version: string;
}

/** ffmpeg or ffprobe cannot be found or does not run. */
export class MediaToolError extends GatewayError {}

const ENV_VAR: Record<MediaToolName, string> = { ffmpeg: 'FFMPEG_PATH', ffprobe: 'FFPROBE_PATH' };
const NPM_PACKAGE: Record<MediaToolName, string> = { ffmpeg: '@ffmpeg-installer/ffmpeg', ffprobe: '@ffprobe-installer/ffprobe' };

const require = createRequire(import.meta.url);

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * True for an ELF executable without a program interpreter, i.e. statically linked (the npm packages'
 * builds and most downloadable Linux builds). Anything unreadable or not ELF counts as not static.
 */
export function isStaticElf(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(64);
    if (readSync(fd, head, 0, 64, 0) < 52 || head.readUInt32BE(0) !== 0x7f454c46) return false;
    const is64 = head[4] === 2;
    const little = head[5] === 1;
    const u16 = (b: Buffer, at: number) => (little ? b.readUInt16LE(at) : b.readUInt16BE(at));
    const u32 = (b: Buffer, at: number) => (little ? b.readUInt32LE(at) : b.readUInt32BE(at));
    const phoff = is64 ? Number(little ? head.readBigUInt64LE(0x20) : head.readBigUInt64BE(0x20)) : u32(head, 0x1c);
    const phentsize = u16(head, is64 ? 0x36 : 0x2a);
    const phnum = u16(head, is64 ? 0x38 : 0x2c);
    if (phentsize < 4 || phnum === 0 || phnum > 256) return false;
    const table = Buffer.alloc(phentsize * phnum);
    if (readSync(fd, table, 0, table.length, phoff) !== table.length) return false;
    const PT_INTERP = 3;
    for (let i = 0; i < phnum; i++) if (u32(table, i * phentsize) === PT_INTERP) return false;
    return true;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * A static Linux build carries its own glibc. When a stream's text asks for a charset conversion (MPEG-TS
 * service names do), that glibc loads the system's iconv modules, built for another glibc, and crashes. A
 * GCONV_PATH without modules makes the conversion fail softly instead; a dynamic build needs nothing.
 */
function staticBuildEnv(path: string): Record<string, string> {
  return process.platform === 'linux' && isStaticElf(path) ? { GCONV_PATH: dirname(path) } : {};
}

/** The binary an npm package carries for this platform, or undefined (platform not covered, package absent). */
function fromNpmPackage(name: MediaToolName): MediaTool | undefined {
  let found: { path?: unknown };
  try {
    // The packages throw (a string, for the older one) when this platform has no binary.
    found = require(NPM_PACKAGE[name]) as { path?: unknown };
  } catch {
    return undefined;
  }
  if (typeof found.path !== 'string') return undefined;
  if (!isExecutableFile(found.path)) {
    throw new MediaToolError(`${found.path} (from npm package ${NPM_PACKAGE[name]}) is not executable; run \`chmod u+x ${found.path}\` or install ${name}`);
  }
  // Name and version of the platform package that holds the binary (e.g. @ffmpeg-installer/linux-x64@4.1.0).
  let source = `npm package ${NPM_PACKAGE[name]}`;
  try {
    const pkg = require(join(dirname(found.path), 'package.json')) as { name?: unknown; version?: unknown };
    if (typeof pkg.name === 'string' && typeof pkg.version === 'string') source = `npm package ${pkg.name}@${pkg.version}`;
  } catch {
    // the binary's own package.json is informative only
  }
  return { name, path: found.path, source, env: staticBuildEnv(found.path) };
}

/**
 * Finds ffmpeg or ffprobe for the given environment. A variable that is set but wrong is an error (the
 * operator asked for that binary), not a reason to quietly take another one.
 */
export function findMediaTool(name: MediaToolName, env: NodeJS.ProcessEnv = process.env): MediaTool {
  const variable = ENV_VAR[name];
  const fromEnv = env[variable];
  if (fromEnv) {
    if (!isExecutableFile(fromEnv)) throw new MediaToolError(`${variable}=${fromEnv} is not an executable file; correct or unset ${variable}`);
    return { name, path: fromEnv, source: variable, env: staticBuildEnv(fromEnv) };
  }
  // (`which` would read process.env.PATH for an empty one)
  const onPath = env.PATH ? which.sync(name, { nothrow: true, path: env.PATH }) : null;
  if (onPath) return { name, path: onPath, source: 'PATH', env: staticBuildEnv(onPath) };
  const packaged = fromNpmPackage(name);
  if (packaged) return packaged;
  throw new MediaToolError(
    `${name} not found: not on PATH, and npm package ${NPM_PACKAGE[name]} has no binary for ${process.platform}-${process.arch}; ` +
      `install ffmpeg (e.g. \`apt-get install ffmpeg\`) or set ${variable}`,
  );
}

const cache = new Map<MediaToolName, MediaTool>();

/** The process's ffmpeg / ffprobe, found once. Throws MediaToolError when there is none. */
export function mediaTool(name: MediaToolName): MediaTool {
  let tool = cache.get(name);
  if (!tool) {
    tool = findMediaTool(name);
    cache.set(name, tool);
  }
  return tool;
}

export const ffmpegPath = (): string => mediaTool('ffmpeg').path;
export const ffprobePath = (): string => mediaTool('ffprobe').path;

/** The environment to spawn the process's ffmpeg / ffprobe with. */
export function mediaToolEnv(name: MediaToolName): NodeJS.ProcessEnv {
  return { ...process.env, ...mediaTool(name).env };
}

/** Runs `<tool> -version` (bounded in time and output) and reads the version from its first line. */
export function mediaToolVersion(tool: MediaTool, timeoutMs = 15_000): Promise<MediaToolVersion> {
  return new Promise((resolve, reject) => {
    const options = { env: { ...process.env, ...tool.env }, timeout: timeoutMs, killSignal: 'SIGKILL' as const, maxBuffer: 1 << 20 };
    execFile(tool.path, ['-hide_banner', '-version'], options, (err, stdout) => {
      if (err) {
        reject(new MediaToolError(`${tool.path} (${tool.source}) does not run: ${err.message.split('\n')[0]}`, { cause: err }));
        return;
      }
      const first = String(stdout).split('\n', 1)[0] ?? '';
      const version = new RegExp(`^${tool.name} version (\\S+)`).exec(first)?.[1];
      if (!version) {
        reject(new MediaToolError(`${tool.path} (${tool.source}) is not ${tool.name}: it printed "${first.slice(0, 80)}"`));
        return;
      }
      resolve({ ...tool, version });
    });
  });
}

/** Both binaries with their versions, for the start-up log line; throws MediaToolError when either is missing or broken. */
export async function checkMediaTools(): Promise<{ ffmpeg: MediaToolVersion; ffprobe: MediaToolVersion }> {
  const [ffmpeg, ffprobe] = await Promise.all([mediaToolVersion(mediaTool('ffmpeg')), mediaToolVersion(mediaTool('ffprobe'))]);
  return { ffmpeg, ffprobe };
}

/** One line for the operator: which ffmpeg/ffprobe, what version, found where. */
export function describeMediaTools(tools: { ffmpeg: MediaToolVersion; ffprobe: MediaToolVersion }): string {
  const one = (t: MediaToolVersion) => `${t.name} ${t.version} at ${t.path} (${t.source})`;
  return `${one(tools.ffmpeg)}; ${one(tools.ffprobe)}`;
}
