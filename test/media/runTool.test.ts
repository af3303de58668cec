// One run of ffprobe or ffmpeg (src/media/runTool.ts), against the real binaries: what each way of ending
// is told as, since a timeout is not held against an orchestrator and unreadable media is.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ffmpegPath, ffprobePath, mediaToolEnv } from '../../src/media/ffmpegBinaries.ts';
import { MAX_TOOL_STDOUT, runTool } from '../../src/media/runTool.ts';

const dir = mkdtempSync(join(tmpdir(), 'lpgw-runtool-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('runTool', () => {
  it('gives the stdout of a run that ends well', async () => {
    const out = await runTool(
      'ffprobe',
      ffprobePath(),
      mediaToolEnv('ffprobe'),
      ['-v', 'error', '-print_format', 'json', '-show_format', '-f', 'lavfi', 'testsrc=d=1'],
      15_000,
    );
    assert.ok('stdout' in out, JSON.stringify(out));
    assert.match(out.stdout, /"format_name": "lavfi"/);
  });

  it('tells a binary that is not there, media it cannot read, and a run past its time apart', async () => {
    const gone = await runTool('ffprobe', join(dir, 'no-such-ffprobe'), process.env, ['-version'], 5000);
    assert.deepEqual(gone, { failed: 'gone', message: `ffprobe ${join(dir, 'no-such-ffprobe')} is gone (set FFPROBE_PATH)` });
    const garbage = join(dir, 'garbage');
    writeFileSync(garbage, Buffer.alloc(4096, 0x5a));
    const unreadable = await runTool('ffprobe', ffprobePath(), mediaToolEnv('ffprobe'), ['-v', 'error', '-show_format', '--', garbage], 15_000);
    assert.equal('failed' in unreadable && unreadable.failed, 'unreadable', JSON.stringify(unreadable));
    // ten seconds read in real time, killed at 300 ms
    const slow = ['-v', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=d=10', '-f', 'null', '-'];
    assert.deepEqual(await runTool('ffmpeg', ffmpegPath(), mediaToolEnv('ffmpeg'), slow, 300), {
      failed: 'timeout',
      message: 'ffmpeg took longer than 300 ms',
    });
  });

  it('stops a run that prints without end and says it could not read the media, not that it was slow', async () => {
    // raw 320x240 pictures on stdout: 230 kB each, past the bound within 20 of them
    const flood = ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:d=10', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'];
    const out = await runTool('ffmpeg', ffmpegPath(), mediaToolEnv('ffmpeg'), flood, 15_000);
    assert.deepEqual(out, { failed: 'unreadable', message: `ffmpeg cannot read the media: it printed more than ${MAX_TOOL_STDOUT} bytes` });
  });
});
