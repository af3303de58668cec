// The body an orchestrator receives: JSON re-encoded from the validated fields, or multipart rebuilt
// with the file under its own name and only the fields that are set (floats as Go's %f).
import { randomBytes } from 'node:crypto';
import type { AiRequest, FieldValue } from './request.ts';

export interface EncodedBody {
  contentType: string;
  body: Buffer;
}

function fieldText(type: string | undefined, v: FieldValue): string {
  if (type === 'float' && typeof v === 'number') return v.toFixed(6);
  return String(v);
}

// Header values in a part are quoted strings: no quotes, backslashes or line breaks inside.
const quoted = (s: string): string => s.replace(/["\\\r\n]/g, '_');

export function encodeForOrchestrator(r: AiRequest, extra: Record<string, string> = {}): EncodedBody {
  if (r.pipeline.input === 'json') {
    const obj: Record<string, unknown> = { ...r.fields };
    if (r.messages) obj.messages = r.messages;
    return { contentType: 'application/json', body: Buffer.from(JSON.stringify(obj)) };
  }
  const boundary = randomBytes(16).toString('hex');
  const parts: Buffer[] = [];
  const part = (name: string, value: Buffer, filename?: string, type?: string): void => {
    const disposition = `form-data; name="${quoted(name)}"${filename !== undefined ? `; filename="${quoted(filename)}"` : ''}`;
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${type ? `Content-Type: ${type}\r\n` : ''}\r\n`),
      value,
      Buffer.from('\r\n'),
    );
  };
  if (r.file) part(r.pipeline.fileField!, r.file.data, r.file.name, r.file.contentType);
  for (const [name, v] of Object.entries(r.fields)) part(name, Buffer.from(fieldText(r.pipeline.fields[name]?.type, v)));
  for (const [name, v] of Object.entries(extra)) part(name, Buffer.from(v));
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat(parts) };
}
