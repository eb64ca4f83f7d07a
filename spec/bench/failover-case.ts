/**
 * The failover hop (issue 3): AI Gate with account A (answers 429
 * usage_limit_reached at once) then B, against AI Gate with only B and against
 * B's mock directly. A cooled account is skipped until its reset, so A's 429
 * says `resets_in_seconds: 0.005` (a `resets_at` in the past or `Retry-After: 0`
 * would not do: the gateway then backs off 30 s) and each request waits 8 ms
 * before the next: every request through the failover gateway hits A first,
 * which the mock's hit counter confirms. Each request is a new conversation
 * (a sticky one would go straight to B).
 */
import { codexRequest } from './codex-request.js';
import { runCell, type Target, type TargetResult } from './cells.js';
import { gatewayHome, removeHome, startGateway, type Measured } from './processes.js';

export interface FailoverResult {
  variant: string;
  withReasoning: boolean;
  results: TargetResult[];
  /** Requests to the failover gateway vs requests A answered with 429 (should match). */
  failoverRequests: number;
  hopsSeen: number;
}

const VARIANTS = [
  { variant: 'with encrypted reasoning (B gets it stripped)', withReasoning: true },
  { variant: 'no reasoning items (nothing to strip)', withReasoning: false },
];

export async function failoverCase(mock: Measured & { url: string }, requests: number, rounds: number): Promise<FailoverResult[]> {
  const homes = [
    gatewayHome([
      { name: 'a', baseUrl: `${mock.url}/a/v1` },
      { name: 'b', baseUrl: `${mock.url}/b/v1` },
    ]),
    gatewayHome([{ name: 'b', baseUrl: `${mock.url}/b/v1` }]),
  ];
  const [viaA, onlyB] = await Promise.all([startGateway('aigate-failover', homes[0]!), startGateway('aigate-b-only', homes[1]!)]);
  const targets: Target[] = [
    { name: 'direct B', url: `${mock.url}/b/v1/responses` },
    { name: 'aigate B only', url: `${onlyB.url}/ai-router/api/responses`, proc: onlyB },
    { name: 'aigate A→B', url: `${viaA.url}/ai-router/api/responses`, proc: viaA },
  ];
  const out: FailoverResult[] = [];
  let conversation = 0;
  try {
    for (const v of VARIANTS) {
      const hitsBefore = await limitHits(mock);
      const results = await runCell(
        {
          label: `failover ${v.variant}`,
          requests,
          concurrency: 1,
          rounds,
          gapMs: 8,
          headers: { 'x-bench-shape': 'small' },
          request: codexRequest({ withReasoning: v.withReasoning }),
          session: () => `failover-${++conversation}`,
        },
        targets,
      );
      const per = Math.ceil(requests / rounds);
      out.push({ variant: v.variant, withReasoning: v.withReasoning, results, failoverRequests: per * (rounds + 1), hopsSeen: (await limitHits(mock)) - hitsBefore });
    }
  } finally {
    await Promise.all([viaA.stop(), onlyB.stop()]);
    homes.forEach(removeHome);
  }
  return out;
}

function limitHits(mock: Measured): Promise<number> {
  return new Promise((resolve) => {
    const id = Date.now();
    const onMessage = (m: { hits?: number; limitHits: number }) => {
      if (m.hits !== id) return;
      mock.child.off('message', onMessage);
      resolve(m.limitHits);
    };
    mock.child.on('message', onMessage);
    mock.child.send({ hits: id });
  });
}
