import { Scenario } from './report.js';
export async function concurrencyScenario(..._a: unknown[]) { return new Scenario('concurrency stub').done(); }
