// -objectStore, -objectStorePublicUrl and -recordStore, checked at start: a store URL in a form this
// gateway cannot write to stops the node with a message (never with the credentials in it).
import type { ObjectStoreConfig } from '../node/config.ts';
import { parseObjectStoreUrl, parsePublicBaseUrl } from '../store/objectStoreUrl.ts';
import { FlagError } from './flags.ts';

export function objectStoreConfig(values: Map<string, string>): { objectStore?: ObjectStoreConfig; recordStore?: ObjectStoreConfig } {
  const text = (name: string): string => (values.get(name) ?? '').trim();
  const objectUrl = text('objectStore');
  const recordUrl = text('recordStore');
  const publicText = text('objectStorePublicUrl');
  try {
    if (publicText && !objectUrl) throw new FlagError('-objectStorePublicUrl needs -objectStore');
    if (objectUrl) parseObjectStoreUrl(objectUrl, 'objectStore');
    if (recordUrl) parseObjectStoreUrl(recordUrl, 'recordStore');
    const publicUrl = publicText ? parsePublicBaseUrl(publicText) : undefined;
    return {
      ...(objectUrl ? { objectStore: { url: objectUrl, ...(publicUrl ? { publicUrl } : {}) } } : {}),
      ...(recordUrl ? { recordStore: { url: recordUrl } } : {}),
    };
  } catch (err) {
    if (err instanceof FlagError) throw err;
    throw new FlagError((err as Error).message);
  }
}
