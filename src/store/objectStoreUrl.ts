// The -objectStore / -recordStore URL, in go-livepeer's forms (README "Running as a managed provider"):
//   s3://KEY:SECRET@REGION/BUCKET[/PREFIX]               Amazon S3
//   s3+http(s)://KEY:SECRET@HOST[:PORT]/BUCKET[/PREFIX]  any S3-compatible store (path-style requests)
// go-livepeer's other forms (gs://, ipfs://, w3s://, a local path) are refused at start with a message
// that says so. The URL holds a secret: only its redacted form may appear in a message.
import { GatewayError } from '../lib/errors.ts';
import { redactUrl } from '../lib/redact.ts';

/** -objectStore, -recordStore or -objectStorePublicUrl cannot be used as given. */
export class ObjectStoreConfigError extends GatewayError {
  constructor(message: string) {
    super(message, { code: 'ObjectStoreConfig' });
  }
}

export interface ObjectStoreTarget {
  /** `https://host:port` for a custom endpoint; absent = Amazon S3 itself */
  endpoint?: string;
  region: string;
  bucket: string;
  /** keys start with this (no leading or trailing slash; '' = the bucket's root) */
  keyPrefix: string;
  accessKeyId: string;
  /** never logged */
  secretAccessKey: string;
  /** where a reader finds the bucket's root: `https://bucket.s3.region.amazonaws.com` or `endpoint/bucket` */
  storeUrl: string;
  /** the URL without its credentials, for logs and /status */
  label: string;
}

// go-livepeer's default when a custom endpoint's host names no region
const DEFAULT_REGION = 'us-east-1';
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX_SEGMENT = /^[A-Za-z0-9!_.*'()-]+$/;

function decode(part: string, what: string, shown: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new ObjectStoreConfigError(`${shown}: the ${what} is not valid percent-encoding`);
  }
}

/** Custom endpoints: the region go-livepeer derives from the host (`s3.REGION.example.com`), else us-east-1. */
function regionOfHost(hostname: string): string {
  const parts = hostname.split('.');
  return parts.length >= 4 && !/^\d+$/.test(parts[parts.length - 1]!) ? parts[1]! : DEFAULT_REGION;
}

/** Parses an object store URL; throws ObjectStoreConfigError naming the flag and what to change. */
export function parseObjectStoreUrl(raw: string, flag = 'objectStore'): ObjectStoreTarget {
  const shown = `-${flag} ${redactUrl(raw)}`;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ObjectStoreConfigError(
      `-${flag} is not a URL; use s3://KEY:SECRET@REGION/BUCKET or s3+https://KEY:SECRET@HOST:PORT/BUCKET, with / + @ in the key or secret percent-encoded (a local path is not supported)`,
    );
  }
  const scheme = u.protocol.slice(0, -1).toLowerCase();
  if (scheme !== 's3' && scheme !== 's3+http' && scheme !== 's3+https') {
    throw new ObjectStoreConfigError(
      `${shown}: the ${scheme}:// object store is not supported; only S3 and S3-compatible stores are (s3://KEY:SECRET@REGION/BUCKET, s3+http(s)://KEY:SECRET@HOST:PORT/BUCKET)`,
    );
  }
  if (!u.username || !u.password) {
    throw new ObjectStoreConfigError(`${shown}: the access key and secret are required, as KEY:SECRET@ before the host (percent-encode / + and @ in them)`);
  }
  if (u.search || u.hash) throw new ObjectStoreConfigError(`${shown}: a query or fragment is not part of an object store URL`);
  const hostname = u.hostname;
  if (!hostname) throw new ObjectStoreConfigError(`${shown}: no ${scheme === 's3' ? 'region' : 'host'} after the @`);
  const path = u.pathname.split('/').filter((s) => s !== '');
  const bucket = path[0] ? decode(path[0], 'bucket', shown) : '';
  if (!BUCKET.test(bucket)) throw new ObjectStoreConfigError(`${shown}: the path must start with a bucket name (3–63 of a-z, 0-9, '.', '-')`);
  const prefixParts = path.slice(1).map((p) => decode(p, 'key prefix', shown));
  if (prefixParts.some((p) => p === '.' || p === '..' || !PREFIX_SEGMENT.test(p))) {
    throw new ObjectStoreConfigError(`${shown}: the key prefix after the bucket may hold letters, digits and !_.*'()- only`);
  }
  const common = {
    bucket,
    keyPrefix: prefixParts.join('/'),
    accessKeyId: decode(u.username, 'access key', shown),
    secretAccessKey: decode(u.password, 'secret', shown),
    label: redactUrl(raw),
  };
  if (scheme === 's3') {
    if (u.port || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(hostname)) {
      throw new ObjectStoreConfigError(
        `${shown}: s3:// names an AWS region after the @ (e.g. us-east-1); for another endpoint use s3+https://KEY:SECRET@HOST:PORT/BUCKET`,
      );
    }
    return { ...common, region: hostname, storeUrl: `https://${bucket}.s3.${hostname}.amazonaws.com` };
  }
  const endpoint = `${scheme === 's3+https' ? 'https' : 'http'}://${u.host}`;
  return { ...common, endpoint, region: regionOfHost(hostname), storeUrl: `${endpoint}/${bucket}` };
}

/** -objectStorePublicUrl: an http(s) URL that serves the bucket's root (a CDN), without a trailing slash. */
export function parsePublicBaseUrl(raw: string, flag = 'objectStorePublicUrl'): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ObjectStoreConfigError(`-${flag} is not a URL; expected e.g. https://cdn.example.com/live`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ObjectStoreConfigError(`-${flag} must be an http:// or https:// URL`);
  if (u.username || u.password || u.search || u.hash) {
    throw new ObjectStoreConfigError(`-${flag} is written into playlists and AI answers: it may not hold credentials, a query or a fragment`);
  }
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}
