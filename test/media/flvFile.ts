// Test helper: an FLV file cut into tags exactly as the RTMP fan-out delivers them (11-byte tag header,
// body, 4-byte previous-tag size), the 13-byte file header first.
import { readFileSync } from 'node:fs';

export function flvFileTags(path: string): Buffer[] {
  const file = readFileSync(path);
  if (file.length < 13 || file.toString('latin1', 0, 3) !== 'FLV') throw new Error(`${path} is not an FLV file`);
  const headerSize = file.readUInt32BE(5) + 4;
  const tags: Buffer[] = [file.subarray(0, headerSize)];
  for (let at = headerSize; at + 11 <= file.length; ) {
    const size = file.readUIntBE(at + 1, 3);
    const end = at + 11 + size + 4;
    if (end > file.length) break;
    tags.push(file.subarray(at, end));
    at = end;
  }
  return tags;
}
