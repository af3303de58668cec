// URLs carry secrets (user info, API keys in paths and queries); these are the only forms of a configured
// URL that may reach logs, errors or APIs.

/**
 * The URL without what may be a secret: user info, path and query (API keys live there).
 * `https://user:pw@arb.example.com/v2/KEY?x=1` → `https://arb.example.com/…`.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '<unparseable URL>';
  }
  const hidden = (u.pathname !== '' && u.pathname !== '/') || u.search !== '' || u.hash !== '';
  return `${u.protocol}//${u.host}${hidden ? '/…' : ''}`;
}

/** Replaces every configured URL (and its path-less form) in `text` by its redacted form. */
export function redactText(text: string, urls: readonly string[]): string {
  let out = text;
  for (const url of [...urls].sort((a, b) => b.length - a.length)) {
    if (url) out = out.split(url).join(redactUrl(url));
  }
  return out;
}
