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

// The one rule for URLs found anywhere in text (log lines, API answers, error messages), whether or not
// they were configured: user info, path segments that are API keys as the common providers put them
// (Alchemy `/v2/<key>`, Infura `/v3/<key>`, QuickNode `<name>.quiknode.pro/<token>/`, Ankr `/<chain>/<key>`,
// or any long token mixing letters and digits), and query values whose names say secret.
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]{1,15}:\/\/[^\s"'<>`\\]+/gi;
const KEY_AFTER = /^(v\d+|rpc|api|key|keys|token|apikey)$/i;
const SECRET_PARAM = /(key|token|secret|pass|auth|sig|credential|session|jwt|bearer)/i;
const HIDDEN = '***';

/** A path segment that looks like an API key: ≥ 20 URL-safe characters with letters and digits. */
function looksLikeKey(segment: string): boolean {
  return segment.length >= 20 && /^[A-Za-z0-9_\-.~]+$/.test(segment) && /\d/.test(segment) && /[A-Za-z]/.test(segment) && !/^0x[0-9a-f]+$/i.test(segment);
}

/** One URL without its secrets; the rest of it (scheme, host, port, harmless path) stays readable. */
export function redactSecretsInUrl(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/i.exec(url);
  if (!m) return url;
  const [, scheme, authority, path = '', query = '', hash = ''] = m;
  const at = authority!.lastIndexOf('@');
  const host = at >= 0 ? `${HIDDEN}@${authority!.slice(at + 1)}` : authority!;
  const quicknode = /\.quiknode\.pro(:\d+)?$/i.test(host);
  const segments = path.split('/');
  const cleanPath = segments
    .map((seg, i) => {
      if (seg === '') return seg;
      const previous = segments[i - 1] ?? '';
      return looksLikeKey(seg) || KEY_AFTER.test(previous) || (quicknode && i === 1) ? HIDDEN : seg;
    })
    .join('/');
  const cleanQuery = query
    ? `?${query
        .slice(1)
        .split('&')
        .map((pair) => {
          const eq = pair.indexOf('=');
          const name = eq < 0 ? pair : pair.slice(0, eq);
          return eq >= 0 && (SECRET_PARAM.test(name) || looksLikeKey(pair.slice(eq + 1))) ? `${name}=${HIDDEN}` : pair;
        })
        .join('&')}`
    : '';
  return `${scheme}${host}${cleanPath}${cleanQuery}${hash}`;
}

/** Every URL in `text` without its secrets (see redactSecretsInUrl). */
export function redactSecrets(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(URL_IN_TEXT, (found) => {
    // punctuation that ends a sentence is not part of the URL
    const url = found.replace(/[.,;:!?)\]}]+$/, '');
    return redactSecretsInUrl(url) + found.slice(url.length);
  });
}
