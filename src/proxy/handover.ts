/**
 * What a request carries when it goes to an account other than the one that
 * made its account-bound state (codex-protocol.md): encrypted reasoning and
 * `previous_response_id` are dropped; a remote compaction item made elsewhere
 * is replaced by one the account made itself from the same history (or, for
 * an account that cannot compact remotely, by a summary it wrote); AI Gate's
 * own compaction items are expanded into their summary. Every blob an account
 * is sent is one it made. Where the history behind a foreign blob is not kept,
 * a plain note stands in for it, and the degradation is announced.
 */
import { debuglog } from 'node:util';
import { blobKey } from '../state/compactions.js';
import type { AccountRecord } from '../state/schema.js';
import { compactOn, OwnRequestError, summarizeOn } from './compaction.js';
import { parsedOnce, type Exchange } from './exchange.js';
import { expandOwnCompaction, isOwnCompaction, lostHistoryMessage, summaryMessage } from './own-compaction.js';
import { isCompaction, isEncryptedReasoning, type Item } from './request-body.js';

const log = debuglog('aigate:compaction');

/** Compactions nested deeper than this in kept history are not unfolded again: a note stands in for them. */
const MAX_DEPTH = 4;

export interface Handover {
  /**
   * The conversation moved here, or the account refused what it was sent: encrypted reasoning,
   * `previous_response_id` and compaction blobs of unknown origin are not sent.
   */
  strip: boolean;
}

/** Whether Codex's body must be rewritten before `account` may read it. */
export function needsHandover(x: Exchange, account: AccountRecord, h: Handover): boolean {
  const facts = x.request.body?.facts;
  if (!facts) return false;
  if (facts.ownCompactions || (h.strip && facts.carriesAccountState)) return true;
  return facts.compactions.some((key) => !readableBy(x, key, account, h));
}

/** The body `account` can read: Codex's body with every foreign item handed over. */
export async function handOver(x: Exchange, account: AccountRecord, h: Handover): Promise<Buffer> {
  const { previous_response_id: _p, ...rest } = parsedOnce(x);
  const body = h.strip ? rest : parsedOnce(x);
  const input = Array.isArray(body.input) ? (body.input as Item[]) : [];
  return Buffer.from(JSON.stringify({ ...body, input: await readableInput(x, account, input, h, 0) }));
}

/** `input` as `account` can read it; may ask the account to compact or summarize history it cannot. */
export async function readableInput(x: Exchange, account: AccountRecord, input: Item[], h: Handover, depth: number): Promise<Item[]> {
  const out: Item[] = [];
  for (const item of input) {
    if (isEncryptedReasoning(item)) {
      if (!h.strip) out.push(item);
    } else if (!isCompaction(item)) out.push(item);
    else if (isOwnCompaction(item)) out.push(expandOwnCompaction(item));
    else if (readableBy(x, blobKey(item.encrypted_content), account, h)) out.push(item);
    else out.push(await standIn(x, account, item.encrypted_content, h, depth));
  }
  return out;
}

function readableBy(x: Exchange, key: string, account: AccountRecord, h: Handover): boolean {
  const producer = x.deps.compactions.producerOf(key);
  if (producer !== undefined) return producer === account.id;
  // Unknown origin (history from before AI Gate): it may well be this account's — unless the conversation has
  // been elsewhere (then it is as likely another's: a note is safer than a blob the account cannot read).
  return !h.strip && !x.deps.compactions.refusedBy(key, account.id);
}

/** What `account` is sent in place of another account's compaction blob. */
async function standIn(x: Exchange, account: AccountRecord, blob: string, h: Handover, depth: number): Promise<Item> {
  const { compactions, bus, clock, store } = x.deps;
  const key = blobKey(blob);
  const local = account.compaction === 'local';
  const cached = await compactions.translation(key, local ? 'summary' : account.id);
  if (cached !== undefined) return local ? summaryMessage(cached) : { type: 'compaction', encrypted_content: cached };
  const producer = compactions.producerOf(key);
  const from = store.data.accounts.find((a) => a.id === producer)?.name;
  const history = producer === undefined || depth >= MAX_DEPTH ? undefined : ((await compactions.inputOf(key)) as Item[] | undefined);
  if (!history) {
    // Every later request of the conversation carries the same blob: the loss is said once (per gateway run).
    if (compactions.firstLoss(key, account.id)) {
      log('%s: the history behind compaction %s is not kept; a note stands in for it', account.name, key);
      bus.emit('handover', { at: clock.now(), account: account.name, from, outcome: 'lost' });
    }
    return lostHistoryMessage();
  }
  const started = performance.now();
  // Kept history came from another account: its reasoning goes, nested compactions are handed over first.
  const readable = await readableInput(x, account, history, { strip: true }, depth + 1);
  if (!local) {
    try {
      const own = await compactOn(x, account, readable);
      await compactions.translated(key, account.id, own);
      bus.emit('handover', { at: clock.now(), account: account.name, from, outcome: 'compacted', ms: performance.now() - started });
      return { type: 'compaction', encrypted_content: own };
    } catch (err) {
      if (!(err instanceof OwnRequestError && err.kind === 'unsupported')) throw err;
      await compactsLocally(x, account);
    }
  }
  const summary = await summarizeOn(x, account, readable);
  await compactions.translated(key, 'summary', summary.text);
  bus.emit('handover', { at: clock.now(), account: account.name, from, outcome: 'summarized', ms: performance.now() - started });
  return summaryMessage(summary.text);
}

/** Remembers that `account` cannot compact remotely: AI Gate compacts for it from now on. */
export async function compactsLocally(x: Exchange, account: AccountRecord): Promise<void> {
  if (account.compaction === 'local') return;
  account.compaction = 'local';
  await x.deps.store.update((data) => {
    const a = data.accounts.find((r) => r.id === account.id);
    if (a) a.compaction = 'local';
  });
  x.deps.bus.emit('handover', { at: x.deps.clock.now(), account: account.name, outcome: 'local' });
}
