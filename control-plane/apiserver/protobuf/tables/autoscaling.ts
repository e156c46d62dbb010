// Tables for k8s.io/api autoscaling/v1 HorizontalPodAutoscaler (what `kubectl autoscale` sends). Field
// numbers are those of autoscaling/v1 generated.proto; JSON names and omitempty follow the Go struct tags.

import type { TableSource } from '../schema.js';

/** autoscaling/v1 message tables (names suffixed V1: they are autoscaling/v1's, not v2's). */
export const autoscalingTables: TableSource = {
  HorizontalPodAutoscalerV1: [
    [1, 'metadata ObjectMeta omitempty'],
    [2, 'spec HorizontalPodAutoscalerSpecV1 omitempty'],
    [3, 'status HorizontalPodAutoscalerStatusV1 omitempty'],
  ],
  HorizontalPodAutoscalerSpecV1: [
    [1, 'scaleTargetRef CrossVersionObjectReferenceV1'],
    [2, 'minReplicas *int32 omitempty'],
    [3, 'maxReplicas int32'],
    [4, 'targetCPUUtilizationPercentage *int32 omitempty'],
  ],
  CrossVersionObjectReferenceV1: [
    [1, 'kind string'],
    [2, 'name string'],
    [3, 'apiVersion string omitempty'],
  ],
  HorizontalPodAutoscalerStatusV1: [
    [1, 'observedGeneration *int64 omitempty'],
    [2, 'lastScaleTime *Time omitempty'],
    [3, 'currentReplicas int32'],
    [4, 'desiredReplicas int32'],
    [5, 'currentCPUUtilizationPercentage *int32 omitempty'],
  ],
};
