// Reading and validating an AI request: JSON decoded the way go-livepeer's Go decoder does (keys match
// case-insensitively, unknown keys are ignored, a wrong type is a 400), multipart parsed with busboy
// under limits, and every field checked before an orchestrator is asked (docs/ai.md, public routes).
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { BodyTooLargeError, readBody } from '../lib/body.ts';
import { header } from '../lib/http.ts';
import { AiRequestError, badRequest } from './errors.ts';
import { MAX_JSON_BODY_BYTES, MAX_MODEL_ID_LENGTH, MAX_TEXT_FIELD_BYTES, type FieldSpec, type PipelineSpec } from './pipelines.ts';

export type FieldValue = string | number | boolean;

export interface ChatMessage {
  role: string;
  content: string;
}

export interface UploadedFile {
  /** the client's file name, kept when the file is forwarded */
  name: string;
  contentType: string;
  data: Buffer;
}

export interface AiRequest {
  pipeline: PipelineSpec;
  modelId: string;
  /** validated fields under their wire names, model id included: what the orchestrator receives */
  fields: Record<string, FieldValue>;
  file?: UploadedFile;
  /** LLM only */
  messages?: ChatMessage[];
}

/** How long a client may take to send its request body. */
export const BODY_READ_TIMEOUT_MS = 60_000;
const MAX_MESSAGES = 1000;
const MAX_MULTIPART_FIELDS = 32;

// Go's strconv.ParseBool
const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

function checkRange(name: string, spec: FieldSpec, n: number): number {
  if (spec.min !== undefined && n < spec.min) throw badRequest(`${name} must be ≥ ${spec.min}`);
  if (spec.max !== undefined && n > spec.max) throw badRequest(`${name} must be ≤ ${spec.max}`);
  return n;
}

/** A JSON value for a field, typed as Go would decode it. */
function fromJson(name: string, spec: FieldSpec, v: unknown): FieldValue {
  switch (spec.type) {
    case 'string':
      if (typeof v !== 'string') throw badRequest(`${name} must be a string`);
      if (Buffer.byteLength(v) > MAX_TEXT_FIELD_BYTES) throw badRequest(`${name} is longer than ${MAX_TEXT_FIELD_BYTES} bytes`);
      return v;
    case 'int':
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw badRequest(`${name} must be an integer`);
      return checkRange(name, spec, v);
    case 'float':
      if (typeof v !== 'number' || !Number.isFinite(v)) throw badRequest(`${name} must be a number`);
      return checkRange(name, spec, v);
    case 'bool':
      if (typeof v !== 'boolean') throw badRequest(`${name} must be true or false`);
      return v;
  }
}

/** A multipart text part for a field. */
function fromText(name: string, spec: FieldSpec, v: string): FieldValue {
  switch (spec.type) {
    case 'string':
      return v;
    case 'int':
      if (!/^[+-]?\d{1,16}$/.test(v.trim())) throw badRequest(`${name} must be an integer`);
      return checkRange(name, spec, Number(v.trim()));
    case 'float': {
      const n = Number(v.trim());
      if (v.trim() === '' || !Number.isFinite(n)) throw badRequest(`${name} must be a number`);
      return checkRange(name, spec, n);
    }
    case 'bool':
      if (GO_TRUE.has(v.trim())) return true;
      if (GO_FALSE.has(v.trim())) return false;
      throw badRequest(`${name} must be true or false`);
  }
}

/** Looks a key up as Go's decoder does: the exact name first, then any case-insensitive match. */
function lookup(obj: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(obj, name)) return obj[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k];
  return undefined;
}

function checkModelId(modelId: string): string {
  if (modelId.length > MAX_MODEL_ID_LENGTH) throw badRequest(`model_id is longer than ${MAX_MODEL_ID_LENGTH} characters`);
  // control characters would end up in logs and in the orchestrator's balance key
  if ([...modelId].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) throw badRequest('model_id contains control characters');
  return modelId;
}

function parseMessages(v: unknown): ChatMessage[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw badRequest('messages must be a list of {role, content}');
  if (v.length > MAX_MESSAGES) throw badRequest(`more than ${MAX_MESSAGES} messages`);
  return v.map((m, i) => {
    if (!m || typeof m !== 'object' || Array.isArray(m)) throw badRequest(`messages[${i}] must be an object`);
    const role = lookup(m as Record<string, unknown>, 'role') ?? '';
    const content = lookup(m as Record<string, unknown>, 'content') ?? '';
    if (typeof role !== 'string' || typeof content !== 'string') throw badRequest(`messages[${i}]: role and content must be strings`);
    return { role, content };
  });
}

/** Fills what go-livepeer's gateway fills and checks what is required. */
function complete(p: PipelineSpec, fields: Record<string, FieldValue>, messages: ChatMessage[] | undefined): AiRequest {
  const modelKey = p.name === 'llm' ? 'model' : 'model_id';
  const given = fields[modelKey];
  const modelId = checkModelId(typeof given === 'string' && given !== '' ? given : p.defaultModel);
  fields[modelKey] = modelId;
  for (const r of p.required) {
    if (fields[r] === undefined || fields[r] === '') throw badRequest(`missing required field ${r}`);
  }
  if (p.name === 'text-to-image') {
    fields.height ??= 512;
    fields.width ??= 512;
  }
  if (p.name === 'text-to-image' || p.name === 'image-to-image') {
    if (fields.num_images_per_prompt === undefined || (fields.num_images_per_prompt as number) < 1) fields.num_images_per_prompt = 1;
  }
  if (p.name === 'llm') {
    fields.max_tokens ??= 256;
    fields.stream ??= false;
    if (!messages || messages.length === 0) throw badRequest('missing required fields: messages must hold at least one {role, content}');
    return { pipeline: p, modelId, fields, messages };
  }
  return { pipeline: p, modelId, fields };
}

/** A JSON request body (text-to-image, llm, text-to-speech). */
export function parseJsonRequest(p: PipelineSpec, body: Buffer): AiRequest {
  let obj: unknown;
  try {
    obj = JSON.parse(body.toString('utf8'));
  } catch {
    throw badRequest('the body is not valid JSON');
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw badRequest('the body must be a JSON object');
  const fields: Record<string, FieldValue> = {};
  for (const [name, spec] of Object.entries(p.fields)) {
    const v = lookup(obj as Record<string, unknown>, name);
    if (v === undefined || v === null) continue;
    fields[name] = fromJson(name, spec, v);
  }
  const messages = p.name === 'llm' ? parseMessages(lookup(obj as Record<string, unknown>, 'messages')) : undefined;
  return complete(p, fields, messages);
}

/** Reads a request body with a size limit and a time limit. */
export async function readRequestBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const timer = setTimeout(() => req.destroy(new Error('request body not received in time')), BODY_READ_TIMEOUT_MS);
  try {
    return await readBody(req, maxBytes, { declaredLength: header(req, 'content-length') });
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw new AiRequestError(413, `request body larger than ${maxBytes} bytes`, { code: 'AI_BODY_TOO_LARGE' });
    throw badRequest(`could not read the request body: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

/** A multipart/form-data request: one file part (`image` or `audio`) and one text part per field. */
export function parseMultipartRequest(p: PipelineSpec, req: IncomingMessage): Promise<AiRequest> {
  const type = header(req, 'content-type') ?? '';
  if (!/^multipart\/form-data/i.test(type)) throw badRequest(`${p.route} takes multipart/form-data with a ${p.fileField} file part`);
  const declared = Number(header(req, 'content-length'));
  const maxTotal = p.maxFileBytes + MAX_MULTIPART_FIELDS * MAX_TEXT_FIELD_BYTES;
  if (Number.isFinite(declared) && declared > maxTotal) {
    req.resume();
    throw new AiRequestError(413, `request body larger than ${maxTotal} bytes`, { code: 'AI_BODY_TOO_LARGE' });
  }
  return new Promise<AiRequest>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: {
          fileSize: p.maxFileBytes,
          files: 1,
          fields: MAX_MULTIPART_FIELDS,
          parts: MAX_MULTIPART_FIELDS + 1,
          fieldSize: MAX_TEXT_FIELD_BYTES,
          fieldNameSize: 100,
          headerPairs: 20,
        },
      });
    } catch (err) {
      reject(badRequest(`malformed multipart request: ${(err as Error).message}`));
      return;
    }
    const fields: Record<string, FieldValue> = {};
    let file: UploadedFile | undefined;
    let failed = false;
    let received = 0;
    const fail = (err: AiRequestError): void => {
      if (failed) return;
      failed = true;
      clearTimeout(timer);
      req.unpipe(parser);
      req.resume();
      reject(err);
    };
    const timer = setTimeout(() => fail(badRequest('request body not received in time')), BODY_READ_TIMEOUT_MS);
    req.on('data', (c: Buffer) => {
      received += c.length;
      if (received > maxTotal) fail(new AiRequestError(413, `request body larger than ${maxTotal} bytes`, { code: 'AI_BODY_TOO_LARGE' }));
    });
    parser.on('field', (name, value, info) => {
      if (failed) return;
      if (info.valueTruncated) return fail(badRequest(`${name} is longer than ${MAX_TEXT_FIELD_BYTES} bytes`));
      const spec = p.fields[name];
      if (!spec || !Object.hasOwn(p.fields, name)) return; // unknown parts are ignored, as go-livepeer does
      try {
        fields[name] = fromText(name, spec, value);
      } catch (err) {
        fail(err as AiRequestError);
      }
    });
    parser.on('file', (name, stream, info) => {
      // a body cut off mid-file errors the file stream too: it must never be an uncaught error
      stream.on('error', (err: Error) => fail(badRequest(`malformed multipart request: ${err.message}`)));
      if (failed || name !== p.fileField) {
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => fail(new AiRequestError(413, `${name} larger than ${p.maxFileBytes} bytes`, { code: 'AI_FILE_TOO_LARGE' })));
      stream.on('end', () => {
        if (!failed) file = { name: info.filename || name, contentType: info.mimeType || 'application/octet-stream', data: Buffer.concat(chunks) };
      });
    });
    parser.on('filesLimit', () => fail(badRequest('only one file part is accepted')));
    parser.on('fieldsLimit', () => fail(badRequest(`more than ${MAX_MULTIPART_FIELDS} fields`)));
    parser.on('partsLimit', () => fail(badRequest('too many parts')));
    parser.on('error', (err: Error) => fail(badRequest(`malformed multipart request: ${err.message}`)));
    parser.on('close', () => {
      if (failed) return;
      clearTimeout(timer);
      if (!file || file.data.length === 0) return fail(badRequest(`missing required field ${p.fileField}`));
      try {
        const r = complete(p, fields, undefined);
        r.file = file;
        resolve(r);
      } catch (err) {
        fail(err as AiRequestError);
      }
    });
    req.on('error', () => fail(badRequest('the request body was cut off')));
    req.pipe(parser);
  });
}

/** Reads and validates the request of a pipeline. */
export async function readAiRequest(p: PipelineSpec, req: IncomingMessage): Promise<AiRequest> {
  if (p.input === 'multipart') return parseMultipartRequest(p, req);
  // go-livepeer decodes the body whatever its declared type; so do we (curl -d sends a form type)
  return parseJsonRequest(p, await readRequestBody(req, MAX_JSON_BODY_BYTES));
}
