// The fault-injection harness (`npm run chaos`): see run.ts.
export { runChaos } from './run';
export type { ChaosReport } from './report';
export { formatChaosReport } from './report';
