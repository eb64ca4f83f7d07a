/**
 * A request shaped like the one Codex sends for a mid-conversation turn
 * (codex-protocol.md): ~20 KB of JSON carrying the whole history — system
 * instructions, tool schemas, shell calls and their output, and reasoning items
 * with `encrypted_content` — plus Codex's headers. The gateway parses this body
 * on every request, so its size is part of what the bench measures.
 */
import { randomUUID } from 'node:crypto';

const words = 'the gateway relays each event as it arrives and keeps no body in memory while a turn streams'.split(' ');

/** Deterministic filler text of about `bytes` characters. */
function prose(bytes: number, seed: number): string {
  let out = '';
  for (let i = seed; out.length < bytes; i++) out += `${words[(i * 7) % words.length]} `;
  return out.slice(0, bytes);
}

const encrypted = (n: number) => Buffer.from(prose(1500, n)).toString('base64');

function tool(name: string, description: string) {
  return {
    type: 'function',
    name,
    description: prose(description.length * 6, name.length) + description,
    strict: false,
    parameters: {
      type: 'object',
      properties: {
        command: { type: 'array', items: { type: 'string' }, description: 'The command to execute' },
        workdir: { type: 'string', description: 'The working directory to execute the command in' },
        timeout_ms: { type: 'number', description: 'The timeout for the command in milliseconds' },
      },
      required: ['command'],
      additionalProperties: false,
    },
  };
}

/** The conversation so far: `turns` rounds of user ask → reasoning → shell call → output → answer. */
function history(turns: number, withReasoning: boolean): unknown[] {
  const input: unknown[] = [
    { type: 'message', role: 'developer', content: [{ type: 'input_text', text: `<permissions instructions>${prose(1200, 1)}</permissions instructions>` }] },
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: `<environment_context><cwd>/home/dev/project</cwd><shell>bash</shell></environment_context>` }] },
  ];
  for (let t = 0; t < turns; t++) {
    input.push({ type: 'message', role: 'user', content: [{ type: 'input_text', text: prose(300, t) }] });
    if (withReasoning) input.push({ type: 'reasoning', id: `rs_${t}`, summary: [{ type: 'summary_text', text: prose(200, t + 3) }], encrypted_content: encrypted(t) });
    input.push({ type: 'function_call', id: `fc_${t}`, call_id: `call_${t}`, name: 'shell', arguments: JSON.stringify({ command: ['bash', '-lc', `sed -n 1,120p src/file${t}.ts`], workdir: '/home/dev/project' }) });
    input.push({ type: 'function_call_output', call_id: `call_${t}`, output: JSON.stringify({ output: prose(2200, t + 5), metadata: { exit_code: 0, duration_seconds: 0.1 } }) });
    input.push({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: prose(400, t + 9) }] });
  }
  return input;
}

export interface CodexRequest {
  body: Buffer;
  /** Headers for one request; `session-id` stays the same for a conversation. */
  headers(session: string): Record<string, string>;
}

/** A ~20 KB turn; without reasoning items when `withReasoning` is false (nothing for a failover to strip). */
export function codexRequest(options: { withReasoning?: boolean; session?: string } = {}): CodexRequest {
  const withReasoning = options.withReasoning ?? true;
  const thread = options.session ?? '0199a2b3-c4d5-7e6f-8091-a2b3c4d5e6f7';
  const body = {
    model: 'gpt-5.1-codex',
    instructions: prose(6000, 42),
    input: history(withReasoning ? 2 : 3, withReasoning),
    tools: [tool('shell', 'Runs a shell command and returns its output.'), tool('apply_patch', 'Edits files with a patch.'), tool('update_plan', 'Updates the task plan.'), tool('view_image', 'Attaches a local image.')],
    tool_choice: 'auto',
    parallel_tool_calls: false,
    reasoning: { effort: 'medium', summary: 'auto' },
    store: false,
    stream: true,
    include: ['reasoning.encrypted_content'],
    prompt_cache_key: thread,
    text: { verbosity: 'medium' },
    client_metadata: { originator: 'codex_exec' },
  };
  const bytes = Buffer.from(JSON.stringify(body));
  return {
    body: bytes,
    headers: (session) => ({
      authorization: 'Bearer sk-codex-placeholder-not-a-real-key',
      originator: 'codex_exec',
      'user-agent': 'codex_exec/0.169.0 (Ubuntu 24.4.0; x86_64) xterm-256color (codex-exec; 0.169.0)',
      accept: 'text/event-stream',
      'content-type': 'application/json',
      'content-length': String(bytes.length),
      'session-id': session,
      'thread-id': session,
      'x-client-request-id': randomUUID(),
      'x-codex-window-id': `${session}:0`,
      'x-codex-turn-metadata': JSON.stringify({ turn_id: randomUUID(), sandbox: 'workspace-write' }),
      'x-codex-beta-features': 'unified_exec',
    }),
  };
}
