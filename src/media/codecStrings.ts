// RFC 6381 codec strings (the `CODECS` attribute of HLS master playlists) from the few header bytes that
// decide them: H.264's profile/constraint/level (`avc1.64001f`), HEVC's profile_tier_level in the
// ISO/IEC 14496-15 Annex E form (`hvc1.1.6.L93.B0`) and MPEG-4 audio's object type (`mp4a.40.2`).
// The same bytes sit in an MPEG-TS parameter set and in an MP4 sample entry's avcC/hvcC/esds box.

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/** `avc1.PPCCLL`: profile_idc, constraint flags byte, level_idc. */
export function avcCodecString(profileIdc: number, constraints: number, levelIdc: number, fourcc = 'avc1'): string {
  return `${fourcc}.${hex2(profileIdc)}${hex2(constraints)}${hex2(levelIdc)}`;
}

/** Length of HEVC's general profile_tier_level: space/tier/profile, 32 compatibility flags, 48 constraint bits, level. */
export const HEVC_PTL_BYTES = 12;

/** The 32 bits in reverse order (Annex E writes the compatibility flags that way). */
function reverse32(v: number): number {
  let r = 0;
  for (let i = 0; i < 32; i++) r = (r << 1) | ((v >>> i) & 1);
  return r >>> 0;
}

/**
 * `hvc1.<space><profile>.<compat>.<tier><level>.<constraints>` from the 12 bytes of the general
 * profile_tier_level (the same in an SPS, after its first byte, and in hvcC, after its version byte).
 * Profile space as '' / A / B / C; compatibility flags bit-reversed in hex; tier L or H; level as a decimal
 * number; the six constraint bytes in hex, trailing zero bytes left out. Undefined when fewer bytes are given.
 */
export function hevcCodecString(ptl: Uint8Array, fourcc = 'hvc1'): string | undefined {
  if (ptl.length < HEVC_PTL_BYTES) return undefined;
  const space = ['', 'A', 'B', 'C'][ptl[0]! >> 6]!;
  const tier = (ptl[0]! & 0x20) !== 0 ? 'H' : 'L';
  const profile = ptl[0]! & 0x1f;
  const compat = reverse32(((ptl[1]! << 24) | (ptl[2]! << 16) | (ptl[3]! << 8) | ptl[4]!) >>> 0);
  const constraints = Array.from(ptl.subarray(5, 11));
  while (constraints.length > 0 && constraints.at(-1) === 0) constraints.pop();
  const level = ptl[11]!;
  return [
    `${fourcc}`,
    `${space}${profile}`,
    compat.toString(16).toUpperCase(),
    `${tier}${level}`,
    ...constraints.map((b) => b.toString(16).toUpperCase()),
  ].join('.');
}

/** MPEG-4 audio object types that HLS players know by their own string. */
const MP3_OBJECT_TYPE = 34;

/**
 * `mp4a.40.<audio object type>` for MPEG-4 audio (objectTypeIndication 0x40), `mp4a.40.34` for MP3
 * (0x69, 0x6B) as Apple's HLS spec names it, otherwise `mp4a.<oti in hex>`. Undefined for MPEG-4 audio
 * whose object type is not known (a bare `mp4a.40` names no decoder).
 */
export function mp4aCodecString(objectTypeIndication: number, audioObjectType?: number): string | undefined {
  if (objectTypeIndication === 0x40) return audioObjectType === undefined ? undefined : `mp4a.40.${audioObjectType}`;
  if (objectTypeIndication === 0x69 || objectTypeIndication === 0x6b) return `mp4a.40.${MP3_OBJECT_TYPE}`;
  return `mp4a.${objectTypeIndication.toString(16).toUpperCase()}`;
}
