// Which ffmpeg/ffprobe runs: FFMPEG_PATH/FFPROBE_PATH, then PATH, then the npm packages' static builds —
// and those packaged builds really do the gateway's work (make MPEG-TS, probe it) on a machine whose PATH
// has no ffmpeg.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { findMediaTool, isStaticElf, type MediaTool, MediaToolError, mediaToolVersion } from '../../src/media/ffmpegBinaries.ts';
import { testSourceArgs } from './testMedia.ts';

const run = promisify(execFile);

describe('finding ffmpeg and ffprobe', () => {
  const dirs: string[] = [];
  const tmp = async () => {
    const d = await mkdtemp(join(tmpdir(), 'lpff-'));
    dirs.push(d);
    return d;
  };
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  /** An executable shell script standing in for a binary. */
  async function fakeTool(dir: string, name: string, body: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, `#!/bin/sh\n${body}\n`);
    await chmod(path, 0o755);
    return path;
  }

  it('takes FFMPEG_PATH / FFPROBE_PATH first, then PATH', async () => {
    const dir = await tmp();
    const onPath = await fakeTool(dir, 'ffmpeg', 'echo "ffmpeg version 9.9-path"');
    const chosen = await fakeTool(dir, 'chosen-ffmpeg', 'echo "ffmpeg version 9.9-env"');
    const fromEnv = findMediaTool('ffmpeg', { PATH: dir, FFMPEG_PATH: chosen });
    assert.deepEqual(fromEnv, { name: 'ffmpeg', path: chosen, source: 'FFMPEG_PATH', env: {} });
    assert.equal((await mediaToolVersion(fromEnv)).version, '9.9-env');
    const fromPath = findMediaTool('ffmpeg', { PATH: `/nonexistent:${dir}` });
    assert.deepEqual(fromPath, { name: 'ffmpeg', path: onPath, source: 'PATH', env: {} });
    const probe = await fakeTool(dir, 'ffprobe', 'echo "ffprobe version 9.9"');
    assert.equal(findMediaTool('ffprobe', { PATH: dir }).path, probe);
  });

  it('a wrong FFMPEG_PATH is an error, not a quiet fallback', async () => {
    const dir = await tmp();
    const notExecutable = join(dir, 'ffmpeg');
    await writeFile(notExecutable, 'text');
    for (const value of [join(dir, 'missing'), notExecutable, dir]) {
      assert.throws(
        () => findMediaTool('ffmpeg', { PATH: '', FFMPEG_PATH: value }),
        (err: Error) => err instanceof MediaToolError && err.message === `FFMPEG_PATH=${value} is not an executable file; correct or unset FFMPEG_PATH`,
      );
    }
  });

  it('a binary that is not ffmpeg, or hangs, is reported instead of trusted', async () => {
    const dir = await tmp();
    const liar: MediaTool = { name: 'ffmpeg', path: await fakeTool(dir, 'liar', 'echo "hello"'), source: 'PATH', env: {} };
    await assert.rejects(mediaToolVersion(liar), /is not ffmpeg: it printed "hello"/);
    const failing: MediaTool = { name: 'ffprobe', path: await fakeTool(dir, 'failing', 'exit 3'), source: 'FFPROBE_PATH', env: {} };
    await assert.rejects(mediaToolVersion(failing), /\(FFPROBE_PATH\) does not run/);
    const hanging: MediaTool = { name: 'ffmpeg', path: await fakeTool(dir, 'hanging', 'exec sleep 60'), source: 'PATH', env: {} };
    await assert.rejects(mediaToolVersion(hanging, 300), /does not run/);
  });

  it('without ffmpeg on PATH, the npm packages’ static builds make and probe MPEG-TS', async () => {
    const bare = { PATH: '/nonexistent' };
    const ffmpeg = findMediaTool('ffmpeg', bare);
    const ffprobe = findMediaTool('ffprobe', bare);
    assert.match(ffmpeg.source, /^npm package @ffmpeg-installer\/[\w-]+@\d/);
    assert.match(ffprobe.source, /^npm package @ffprobe-installer\/[\w-]+@\d/);
    assert.match(ffmpeg.path, /node_modules\/@ffmpeg-installer\//);
    assert.match((await mediaToolVersion(ffmpeg)).version, /\S/);
    if (process.platform === 'linux') {
      assert.equal(isStaticElf(ffprobe.path), true);
      assert.equal(ffprobe.env.GCONV_PATH !== undefined, true, 'a static build gets a GCONV_PATH without modules');
    }

    // What the gateway and the devnet orchestrator ask of them: x264 + AAC into MPEG-TS, and ffprobe's JSON.
    const dir = await tmp();
    const clip = join(dir, 'clip.ts');
    await run(ffmpeg.path, [...testSourceArgs({ seconds: 2, size: '320x180' }), '-f', 'mpegts', clip], { env: { ...process.env, ...ffmpeg.env } });
    const { stdout } = await run(ffprobe.path, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', '--', clip], {
      env: { ...process.env, ...ffprobe.env },
    });
    const info = JSON.parse(stdout) as {
      format: { format_name: string };
      streams: { codec_type: string; codec_name: string; width?: number; pix_fmt?: string }[];
    };
    assert.equal(info.format.format_name, 'mpegts');
    assert.deepEqual(
      info.streams.map((s) => [s.codec_type, s.codec_name]),
      [
        ['video', 'h264'],
        ['audio', 'aac'],
      ],
    );
    assert.equal(info.streams[0]!.width, 320);
    assert.equal(info.streams[0]!.pix_fmt, 'yuv420p');
    assert.ok((await readFile(clip)).length > 10_000);
  });

  it('the gateway stops at start with one clear line when its ffmpeg does not work', async () => {
    const bin = fileURLToPath(new URL('../../scripts/livepeer-gateway.mjs', import.meta.url));
    const args = ['-gateway', '-orchAddr', '127.0.0.1:1', '-rtmpAddr', '127.0.0.1:0', '-httpAddr', '127.0.0.1:0', '-cliAddr', '127.0.0.1:0'];
    const result = await run(process.execPath, [bin, ...args], { env: { ...process.env, FFMPEG_PATH: '/nonexistent/ffmpeg' } }).then(
      () => assert.fail('the gateway started without ffmpeg'),
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^livepeer-gateway: FFMPEG_PATH=\/nonexistent\/ffmpeg is not an executable file; correct or unset FFMPEG_PATH$/m);
    assert.doesNotMatch(result.stdout, /Gateway Mode/);
  });

  it('tells static ELF builds from dynamic ones and from anything else', async () => {
    const dir = await tmp();
    assert.equal(isStaticElf(process.execPath), false, 'node is dynamically linked');
    assert.equal(isStaticElf(await fakeTool(dir, 'script', 'true')), false);
    assert.equal(isStaticElf(join(dir, 'missing')), false);
    // a hostile header: ELF magic with a program header table far past the end of the file
    const bogus = Buffer.alloc(64);
    bogus.writeUInt32BE(0x7f454c46, 0);
    bogus[4] = 2;
    bogus[5] = 1;
    bogus.writeBigUInt64LE(1n << 40n, 0x20);
    bogus.writeUInt16LE(56, 0x36);
    bogus.writeUInt16LE(13, 0x38);
    await writeFile(join(dir, 'bogus'), bogus);
    assert.equal(isStaticElf(join(dir, 'bogus')), false);
  });
});
