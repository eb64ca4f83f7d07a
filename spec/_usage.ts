/** Scripted upstream answers that report a given token usage, for tests that check cost to the cent. */
import { sseEvent, type Plan } from './mock-upstream.js';

let answers = 0;

/** A complete answer (created, one message, completed) whose `response.completed` reports exactly this usage. */
export function answerWithUsage(input: number, cached: number, output: number, reasoning = 0, text = 'priced'): Plan {
  const id = `resp_usage_${++answers}`;
  const message = { id: `msg_${id}`, type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] };
  const usage = { input_tokens: input, input_tokens_details: { cached_tokens: cached }, output_tokens: output, output_tokens_details: { reasoning_tokens: reasoning }, total_tokens: input + output };
  return {
    kind: 'raw',
    headers: { 'content-type': 'text/event-stream' },
    chunks: [
      sseEvent('response.created', { response: { id, status: 'in_progress', output: [] } }),
      sseEvent('response.output_item.done', { output_index: 0, item: message }),
      sseEvent('response.completed', { response: { id, status: 'completed', output: [message], usage } }),
    ],
  };
}
