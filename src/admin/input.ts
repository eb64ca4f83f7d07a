import type { Context } from 'koa';
import type { z } from 'zod';
import { GatewayError } from '../proxy/errors.js';

/** Admin requests are small JSON documents; anything bigger is a mistake or an attack. */
const MAX_BODY = 256 * 1024;

/** Checks `value` against `schema`; a 400 that names each field and what is wrong with it. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, what = 'request body'): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : what}: ${i.message}`);
  throw new GatewayError(400, `invalid ${what}: ${problems.join('; ')}`, 'invalid_request_error', 'invalid_input');
}

/**
 * Reads and validates a JSON body (an empty body reads as `{}`). Only
 * `application/json` is taken: an HTML form cannot send it, which is one more
 * wall against cross-site requests.
 */
export async function readJson<S extends z.ZodType>(ctx: Context, schema: S): Promise<z.infer<S>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new GatewayError(413, `the request body is over ${MAX_BODY / 1024} KiB`, 'invalid_request_error', 'body_too_large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  let value: unknown = {};
  if (text) {
    if (!/^application\/json\b/i.test(ctx.get('content-type'))) {
      throw new GatewayError(415, 'send the body as JSON with `content-type: application/json`', 'invalid_request_error', 'unsupported_media_type');
    }
    try {
      value = JSON.parse(text);
    } catch {
      // V8's message quotes the body, which may hold an API key: say where, not what.
      throw new GatewayError(400, 'the request body is not valid JSON', 'invalid_request_error', 'invalid_json');
    }
  }
  return validate(schema, value);
}

/** Query parameters (first value of each) checked against `schema`. */
export function readQuery<S extends z.ZodType>(ctx: Context, schema: S): z.infer<S> {
  const flat = Object.fromEntries(Object.entries(ctx.query).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  return validate(schema, flat, 'query');
}
