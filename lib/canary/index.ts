/*
 * `nestjs-inference/canary`: what rollout operators, and authors of routers and rollout stores,
 * import. An app that only makes calls needs nothing from here.
 */
export { CanaryRollout } from './canary.rollout.js';
export type { PhaseFigures, RecordedCall } from './phase.ledger.js';
export type { CallFacts } from './side-metrics.js';
export { RolloutActionError } from './rollout-action.error.js';
export type { RolloutAction } from './rollout-action.error.js';
export type { RolloutEvent, RolloutListener } from './rollout-events.js';
export type { RolloutEventType } from './rollout.machine.js';
export type { RolloutReport } from './rollout-report.js';
export type { RolloutEvaluation, RolloutState, RolloutStatus } from './rollout-state.js';
export type { Verdict, VerdictKind } from './judge.js';
export type {
  FeedbackFigures,
  LatencyFigures,
  QualityFigures,
  SideFigures,
} from './side-metrics.js';
export type { Answer, AnswerQuality, QualitySignal } from './answer-quality.js';
export { ShadowMirror } from './shadow.mirror.js';
export type { Estimate, ShadowFigures } from './shadow-metrics.js';
export { MemoryRolloutStore, ROLLOUT_STORE } from './rollout.store.js';
export type { RolloutStore } from './rollout.store.js';
export type { RolloutStoreProvider } from '../inference.module-definition.js';
export { CanaryRouter } from '../routing/canary.router.js';
export { InferenceRouter } from '../routing/inference.router.js';
export type { CallRecord, RouteDecision, RouteRequest } from '../routing/inference.router.js';
export { bucketOf } from '../routing/sticky-bucket.js';
