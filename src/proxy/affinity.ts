import type { IncomingHttpHeaders } from 'node:http';
import type { Conversation, Conversations } from '../state/conversations.js';

/** What Codex says about a request beyond its conversation (codex-protocol.md, "What 0.171 adds"). */
export interface TurnMeta {
  /** `x-codex-turn-metadata.turn_id`: every request of one user turn (tool follow-ups, its compaction) shares it. */
  turnId?: string;
  /** `x-codex-parent-thread-id`: the thread that spawned this sub-agent. */
  parentThread?: string;
  /** `x-codex-turn-state`: a routing token of the account that issued it, echoed for the rest of the turn. */
  turnState?: string;
}

export function turnMeta(headers: IncomingHttpHeaders): TurnMeta {
  const meta: TurnMeta = {};
  const raw = headers['x-codex-turn-metadata'];
  if (typeof raw === 'string' && raw.length < 16_384) {
    try {
      const parsed = JSON.parse(raw) as Record<string, unknown>;
      if (typeof parsed.turn_id === 'string' && parsed.turn_id) meta.turnId = parsed.turn_id;
    } catch {
      // Metadata that does not parse only costs the turn its affinity.
    }
  }
  const parent = headers['x-codex-parent-thread-id'];
  if (typeof parent === 'string' && parent) meta.parentThread = parent;
  const state = headers['x-codex-turn-state'];
  if (typeof state === 'string' && state) meta.turnState = state;
  return meta;
}

/** A map that forgets its oldest entries past `max`. */
class Recent<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    return this.map.get(key);
  }
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }
}

/**
 * Where a request would rather go, beyond its conversation: the account that
 * served its turn so far, and for a sub-agent the account of its parent
 * thread, so one task's prompt cache and account-bound state stay on one
 * account while it is healthy. Also which account issued each turn state, so
 * a token of one account never reaches another. Memory only: turns are short.
 */
export class Affinity {
  private readonly turns = new Recent<string>(4096);
  private readonly turnStates = new Recent<string>(4096);

  constructor(private readonly conversations: Conversations) {}

  /** The account ids to prefer, most preferred first. */
  preferred(meta: TurnMeta, conversation: Conversation | undefined): string[] {
    const parent = meta.parentThread ? this.conversations.get(meta.parentThread)?.last : undefined;
    const turn = meta.turnId ? this.turns.get(meta.turnId) : undefined;
    return [turn, parent, conversation?.last].filter((id): id is string => !!id);
  }

  /** The account a turn's request reached (its stream began). */
  served(meta: TurnMeta, accountId: string, turnState: string | undefined): void {
    if (meta.turnId) this.turns.set(meta.turnId, accountId);
    if (turnState) this.turnStates.set(turnState, accountId);
  }

  /**
   * Whether Codex's `x-codex-turn-state` may go to `accountId`: only to the account that issued it. One this
   * gateway did not see issued (it restarted) goes only where the conversation has always been.
   */
  mayCarry(turnState: string, accountId: string, conversation: Conversation | undefined): boolean {
    const issuer = this.turnStates.get(turnState);
    if (issuer) return issuer === accountId;
    return !!conversation && conversation.servedBy.every((id) => id === accountId);
  }
}
