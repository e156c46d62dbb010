// Tables for k8s.io/api batch/v1 Job and CronJob (what `kubectl create job|cronjob` send). Field numbers
// are those of batch/v1 generated.proto; JSON names and omitempty follow the Go struct tags. Not decoded:
// podFailurePolicy, successPolicy, scheduling (skipped like unknown fields).

import type { TableSource } from '../schema.js';

/** batch/v1 message tables. */
export const batchTables: TableSource = {
  Job: [
    [1, 'metadata ObjectMeta omitempty'],
    [2, 'spec JobSpec omitempty'],
    [3, 'status JobStatus omitempty'],
  ],
  JobSpec: [
    [1, 'parallelism *int32 omitempty'],
    [2, 'completions *int32 omitempty'],
    [3, 'activeDeadlineSeconds *int64 omitempty'],
    [7, 'backoffLimit *int32 omitempty'],
    [12, 'backoffLimitPerIndex *int32 omitempty'],
    [13, 'maxFailedIndexes *int32 omitempty'],
    [4, 'selector *LabelSelector omitempty'],
    [5, 'manualSelector *bool omitempty'],
    [6, 'template PodTemplateSpec'],
    [8, 'ttlSecondsAfterFinished *int32 omitempty'],
    [9, 'completionMode *string omitempty'],
    [10, 'suspend *bool omitempty'],
    [14, 'podReplacementPolicy *string omitempty'],
    [15, 'managedBy *string omitempty'],
  ],
  JobStatus: [
    [1, 'conditions []JobCondition omitempty'],
    [2, 'startTime *Time omitempty'],
    [3, 'completionTime *Time omitempty'],
    [4, 'active int32 omitempty'],
    [5, 'succeeded int32 omitempty'],
    [6, 'failed int32 omitempty'],
    [11, 'terminating *int32 omitempty'],
    [7, 'completedIndexes string omitempty'],
    [10, 'failedIndexes *string omitempty'],
    [8, 'uncountedTerminatedPods *UncountedTerminatedPods omitempty'],
    [9, 'ready *int32 omitempty'],
  ],
  JobCondition: [
    [1, 'type string'],
    [2, 'status string'],
    [3, 'lastProbeTime Time omitempty'],
    [4, 'lastTransitionTime Time omitempty'],
    [5, 'reason string omitempty'],
    [6, 'message string omitempty'],
  ],
  UncountedTerminatedPods: [
    [1, 'succeeded []string omitempty'],
    [2, 'failed []string omitempty'],
  ],
  CronJob: [
    [1, 'metadata ObjectMeta omitempty'],
    [2, 'spec CronJobSpec omitempty'],
    [3, 'status CronJobStatus omitempty'],
  ],
  CronJobSpec: [
    [1, 'schedule string'],
    [8, 'timeZone *string omitempty'],
    [2, 'startingDeadlineSeconds *int64 omitempty'],
    [3, 'concurrencyPolicy string omitempty'],
    [4, 'suspend *bool omitempty'],
    [5, 'jobTemplate JobTemplateSpec'],
    [6, 'successfulJobsHistoryLimit *int32 omitempty'],
    [7, 'failedJobsHistoryLimit *int32 omitempty'],
  ],
  JobTemplateSpec: [
    [1, 'metadata ObjectMeta omitempty'],
    [2, 'spec JobSpec omitempty'],
  ],
  CronJobStatus: [
    [1, 'active []ObjectReference omitempty'],
    [4, 'lastScheduleTime *Time omitempty'],
    [5, 'lastSuccessfulTime *Time omitempty'],
  ],
};
