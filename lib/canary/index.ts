export { bucketOf, onCanary, BUCKETS } from './sticky-bucket.js';
export { murmur3x86_32 } from './murmur3.js';
export { CanaryRollout } from './canary.rollout.js';
export type { PhaseFigures, RecordedCall } from './canary.rollout.js';
export { CanaryRouter } from './canary.router.js';
export { InferenceRouter } from './inference.router.js';
export type { CallRecord, RouteDecision, RouteRequest } from './inference.router.js';
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
export { MemoryRolloutStore } from './rollout.store.js';
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
