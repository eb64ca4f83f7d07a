import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import zlib from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import { blobKey } from '../state/compactions.js';
import { isOwnCompaction } from './own-compaction.js';
import { GatewayError } from './errors.js';
import { zstdBound } from './zstd-bound.js';

/** Codex bodies carry the whole conversation; 64 MiB is far past any real one. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** What the gateway needs from a request body, extracted once so the parsed object can be let go. */
export interface BodyFacts {
  model?: string;
  promptCacheKey?: string;
  /** Reasoning items with `encrypted_content` or a `previous_response_id`: state only the producing account can read. */
  carriesAccountState: boolean;
  /** Keys (blobKey) of the remote compaction items in the input: each is readable only by the account that made it. */
  compactions: string[];
  /** The input holds AI Gate's own compaction items, which are expanded into their summary before anything is sent. */
  ownCompactions: boolean;
  /** The last input item is `compaction_trigger`: Codex asks for the history to be compacted. */
  compacting: boolean;
}

export interface RequestBody {
  /** The bytes exactly as Codex sent them (possibly zstd-compressed). */
  raw: Buffer;
  encoding?: string;
  facts: BodyFacts;
}

/** Reads the whole body; listeners rather than `for await`, which costs ~0.1 ms per request in ticks. */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length']) > limit) return reject(tooLarge(limit));
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData).resume();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

const tooLarge = (limit: number) =>
  new GatewayError(413, `request body is over ${limit / 1024 / 1024} MiB; AI Gate sent nothing upstream`, 'invalid_request_error', 'request_too_large');

/** Checks the content type, decodes and parses the body; malformed input is refused before anything goes upstream. */
export async function parseResponsesBody(req: IncomingMessage): Promise<RequestBody> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new GatewayError(415, `expected content-type application/json, got "${type.slice(0, 80) || 'none'}"; AI Gate sent nothing upstream`, 'invalid_request_error', 'unsupported_media_type');
  }
  const raw = await readBody(req);
  const encoding = req.headers['content-encoding']?.toLowerCase();
  const json = decode(raw, encoding);
  return { raw, encoding, facts: factsOf(json) };
}

export function decode(raw: Buffer, encoding: string | undefined): Buffer {
  try {
    switch (encoding) {
      case undefined:
      case '':
      case 'identity':
        return raw;
      case 'zstd':
        {
        // fzstd has no output limit: bound the body from its headers first (a 30 KB zstd body can claim gigabytes).
        const bound = zstdBound(raw);
        if (bound === undefined) throw new Error('not a well-formed zstd frame');
        if (bound > MAX_BODY_BYTES) throw new RangeError('over the limit');
        const out = zstdDecompress(raw);
        return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
      }
      case 'gzip':
        return zlib.gunzipSync(raw, { maxOutputLength: MAX_BODY_BYTES });
      case 'deflate':
        return zlib.inflateSync(raw, { maxOutputLength: MAX_BODY_BYTES });
      case 'br':
        return zlib.brotliDecompressSync(raw, { maxOutputLength: MAX_BODY_BYTES });
    }
  } catch (err) {
    if (err instanceof RangeError) throw tooLarge(MAX_BODY_BYTES);
    throw new GatewayError(400, `the ${encoding} request body does not decompress (${(err as Error).message})`, 'invalid_request_error', 'invalid_body');
  }
  throw new GatewayError(415, `content-encoding "${encoding.slice(0, 40)}" is not supported; send identity, zstd or gzip`, 'invalid_request_error', 'unsupported_media_type');
}

function parseObject(json: Buffer): Record<string, unknown> {
  // JSON is UTF-8 (RFC 8259); decoding would silently turn bad bytes into U+FFFD, and then send the originals upstream.
  if (!isUtf8(json)) throw new GatewayError(400, 'request body is not valid UTF-8; AI Gate sent nothing upstream', 'invalid_request_error', 'invalid_json');
  let body: unknown;
  try {
    body = JSON.parse(json.toString('utf8'));
  } catch (err) {
    throw new GatewayError(400, `request body is not valid JSON (${(err as Error).message}); AI Gate sent nothing upstream`, 'invalid_request_error', 'invalid_json');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new GatewayError(400, 'request body must be a JSON object; AI Gate sent nothing upstream', 'invalid_request_error', 'invalid_json');
  }
  return body as Record<string, unknown>;
}

function factsOf(json: Buffer): BodyFacts {
  const body = parseObject(json);
  const input: unknown[] = Array.isArray(body.input) ? body.input : [];
  const facts: BodyFacts = {
    model: typeof body.model === 'string' ? body.model : undefined,
    promptCacheKey: typeof body.prompt_cache_key === 'string' ? body.prompt_cache_key : undefined,
    carriesAccountState: body.previous_response_id != null,
    compactions: [],
    ownCompactions: false,
    compacting: (input.at(-1) as Item | undefined)?.type === 'compaction_trigger',
  };
  for (const item of input as Item[]) {
    if (isEncryptedReasoning(item)) facts.carriesAccountState = true;
    else if (isCompaction(item)) {
      if (isOwnCompaction(item)) facts.ownCompactions = true;
      else facts.compactions.push(blobKey(item.encrypted_content as string));
    }
  }
  return facts;
}

export type Item = Record<string, unknown>;

export const isEncryptedReasoning = (item: unknown): boolean =>
  !!item && typeof item === 'object' && (item as Item).type === 'reasoning' && (item as Item).encrypted_content != null;

export const isCompaction = (item: unknown): item is Item & { encrypted_content: string } =>
  !!item && typeof item === 'object' && (item as Item).type === 'compaction' && typeof (item as Item).encrypted_content === 'string';

/** The body as JSON, decoded from its content encoding: for the rare requests that must be rewritten. */
export function parsedBody(body: RequestBody): Record<string, unknown> {
  return parseObject(decode(body.raw, body.encoding));
}
