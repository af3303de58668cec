// Manifest IDs and rendition (profile) names become path elements of playlist and segment URLs and lines
// of .m3u8 files. A CR/LF (`%0A` in a URL) would write new playlist lines; `/`, `?`, `#`, `..` would
// change which file a URL names. So they are checked once, where they enter, against one safe set.

/** Letters, digits, `_`, `-`, `.`, `~`; 1-128 characters; not `.` or `..`. */
const SAFE_NAME = /^[A-Za-z0-9_.~-]{1,128}$/;

export function isSafeName(name: string): boolean {
  return SAFE_NAME.test(name) && name !== '.' && name !== '..';
}

/** Why `name` is refused, or undefined when it is safe. `what` names it in the message (e.g. "manifest ID"). */
export function unsafeNameReason(what: string, name: string): string | undefined {
  if (isSafeName(name)) return undefined;
  const shown = JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}…` : name);
  return `${what} ${shown} is not allowed: use 1-128 letters, digits, "_", "-", "." or "~"`;
}
