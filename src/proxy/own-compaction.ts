/**
 * AI Gate's own compaction items, for accounts that cannot compact remotely
 * (most third-party providers). Codex holds them like any compaction item; the
 * gateway never sends one upstream as it is, but expands it into the summary
 * it carries, as plain text every account can read. The summary travels inside
 * the item (base64), so it survives a reinstall of AI Gate; Codex keeps the
 * whole conversation in plain text in its own session files anyway.
 */
type Item = Record<string, unknown>;

const PREFIX = 'aigate:summary:v1:';

/** What AI Gate asks an account for when it compacts for it: an ordinary request ending with this message. */
const SUMMARY_REQUEST =
  'Summarize the conversation so far so that the work can continue from the summary alone: what the user asked for ' +
  'and why, what has been done (files, commands, decisions and their reasons), the current state, open questions and ' +
  'the next steps. Keep exact names, paths, identifiers and values. Reply with the summary only.';

const PREFACE = 'The earlier part of this conversation was compacted. This summary stands for it:\n\n';

export function ownCompactionItem(summary: string): Item {
  return { type: 'compaction', encrypted_content: PREFIX + Buffer.from(summary, 'utf8').toString('base64url') };
}

export const isOwnCompaction = (item: Item): boolean => typeof item.encrypted_content === 'string' && item.encrypted_content.startsWith(PREFIX);

/** The plain-text message an own compaction item stands for; what every account is sent in its place. */
export function expandOwnCompaction(item: Item): Item {
  const summary = Buffer.from(String(item.encrypted_content).slice(PREFIX.length), 'base64url').toString('utf8');
  return summaryMessage(summary);
}

export function summaryMessage(summary: string): Item {
  return { type: 'message', role: 'user', content: [{ type: 'input_text', text: PREFACE + summary }] };
}

export const summaryRequestMessage = (): Item => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text: SUMMARY_REQUEST }] });

/** Stands in for a compaction whose history is gone (AI Gate reinstalled, or the history pruned). */
export function lostHistoryMessage(): Item {
  return {
    type: 'message',
    role: 'user',
    content: [
      {
        type: 'input_text',
        text: 'Part of this conversation was compacted by another account, and that history is not available here. Continue from the messages that follow; ask the user if something earlier is needed.',
      },
    ],
  };
}
