/**
 * Splits a validation message from the admin API into per-field messages, so
 * each shows under its input. Two shapes arrive: the admin API's own
 * ("invalid request body: name: give the server a name") and the MCP rules'
 * ("docs: url must be an http(s) URL; command must not be empty"). Whatever
 * names no known field stays a message for the whole form.
 */
export function fieldErrors(message: string | undefined, fields: readonly string[], prefix?: string): { fields: Record<string, string>; rest?: string } {
  if (!message) return { fields: {} };
  let body = message.replace(/^invalid [^:]+:\s*/, '');
  if (prefix && body.startsWith(`${prefix}: `)) body = body.slice(prefix.length + 2);
  const found: Record<string, string> = {};
  const rest: string[] = [];
  for (const part of body.split(/;\s*/)) {
    const m = /^([A-Za-z_][\w]*)(?:\.[\w.]+)?:?\s+(.+)$/.exec(part);
    const field = m && fields.includes(m[1]!) ? m[1]! : undefined;
    if (field) found[field] = found[field] ? `${found[field]}; ${m![2]}` : m![2]!;
    else rest.push(part);
  }
  if (!Object.keys(found).length) return { fields: {}, rest: message };
  return { fields: found, rest: rest.join('; ') || undefined };
}
