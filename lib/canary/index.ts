// Routing has its own folder (lib/routing/); its names stay exported here until the public API
// is reworked, so the package root does not change.
export {
  bucketOf,
  onCanary,
  BUCKETS,
  murmur3x86_32,
  CanaryRouter,
  InferenceRouter,
} from '../routing/index.js';
export type { CallRecord, RouteDecision, RouteRequest } from '../routing/index.js';
export { CanaryRollout } from './canary.rollout.js';
export type { PhaseFigures, RecordedCall } from './phase.ledger.js';
export { judge, newcombeLower, wilsonLower, wilsonUpper, zScore } from './judge.js';
export type { JudgeCriteria, Verdict, VerdictKind } from './judge.js';
export { RolloutMachine } from './rollout.machine.js';
export type { RolloutChange, RolloutEventType } from './rollout.machine.js';
export { RolloutActionError } from './rollout-action.error.js';
export type { RolloutAction } from './rollout-action.error.js';
export type { RolloutEvent, RolloutListener } from './rollout-events.js';
export type { RolloutReport } from './rollout-report.js';
export { IDLE_STATE } from './rollout-state.js';
export type { RolloutEvaluation, RolloutState, RolloutStatus } from './rollout-state.js';
export { MemoryRolloutStore, ROLLOUT_STORE } from './rollout.store.js';
export type { RolloutStore } from './rollout.store.js';
export { SideMetrics } from './side-metrics.js';
export type {
  CallFacts,
  LatencyFigures,
  LatencyMeasure,
  SideFigures,
  SideSnapshot,
} from './side-metrics.js';
export { OUTCOME_CODES } from './call-outcome.js';
export { QUALITY_SIGNALS, similarity } from './answer-quality.js';
export type { Answer, AnswerQuality, QualitySignal } from './answer-quality.js';
export { ShadowMirror } from './shadow.mirror.js';
export type { ShadowJob } from './shadow.mirror.js';
export { ShadowMetrics, SHADOW_SKIPS } from './shadow-metrics.js';
export type {
  Estimate,
  ShadowFigures,
  ShadowPairObservation,
  ShadowSkip,
  ShadowSnapshot,
} from './shadow-metrics.js';
export { judgeShadow } from './shadow-gate.js';
export type { ShadowGateCriteria } from './shadow-gate.js';
export type { FeedbackCriteria } from './judge.js';
export type { FeedbackFigures, QualityFigures } from './side-metrics.js';
