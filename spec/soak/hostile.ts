import { Scenario } from './report.js';
export async function startSlowClients(..._a: unknown[]) { return {}; }
export async function hostileScenario(..._a: unknown[]) { return new Scenario('hostile stub').done(); }
