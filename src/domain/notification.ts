/** What every finished run announces (EventBridge detail-type "Pipeline Run Finished", source "knn-pipeline"). */
export interface RunOutcome {
  runId: string | null;
  executionName: string;
  executionArn: string;
  status: string;
  error: string | null;
  cause: string | null;
  dataset: string | null;
  metrics: Record<string, number> | null;
  gate: { metric: string; threshold: number; value: number | null; passed: boolean } | null;
  promotion: { decision: string; outcome: string | null; message: string } | null;
  metricsUri: string | null;
  /** Present when the run waited for SageMaker capacity: total seconds and each claim (README "Bursts and quotas"). */
  capacityWait?: { seconds: number; claims: { quota: string; waitedSeconds: number; status: string }[] };
}

export const NOTIFICATION_SOURCE = 'knn-pipeline';
export const NOTIFICATION_DETAIL_TYPE = 'Pipeline Run Finished';

interface MetricsFile {
  dataset?: { uri?: string };
  metrics?: Record<string, unknown>;
  gate?: { metric: string; threshold: number; value: number | null; passed: boolean };
  promotion?: { decision: string; reason: string };
}

interface ServingFile {
  outcome?: string;
  message?: string;
}

const HEADLINE = ['accuracy', 'macroF1', 'weightedF1', 'mse', 'rmse', 'mae', 'r2'];

/** The outcome of one execution, from its status change and whatever evaluation and serving records it left. */
export function runOutcome(
  execution: { executionArn: string; name: string; status: string; error?: string | null; cause?: string | null },
  runId: string | null,
  metricsFile: MetricsFile | undefined,
  servingFile: ServingFile | undefined,
  metricsUri: string | null,
  waits: { quota: string; waitedSeconds: number; status: string }[] = [],
): RunOutcome {
  const metrics = metricsFile?.metrics
    ? Object.fromEntries(
        HEADLINE.filter((name) => typeof metricsFile.metrics![name] === 'number').map((name) => [
          name,
          metricsFile.metrics![name] as number,
        ]),
      )
    : null;
  const promotion =
    metricsFile?.promotion && metricsFile.promotion.decision !== 'off'
      ? {
          decision: metricsFile.promotion.decision,
          outcome: servingFile?.outcome ?? null,
          message: servingFile?.message ?? metricsFile.promotion.reason,
        }
      : null;
  return {
    runId,
    executionName: execution.name,
    executionArn: execution.executionArn,
    status: execution.status,
    error: execution.error ?? null,
    cause: execution.cause ?? null,
    dataset: metricsFile?.dataset?.uri ?? null,
    metrics,
    gate: metricsFile?.gate
      ? {
          metric: metricsFile.gate.metric,
          threshold: metricsFile.gate.threshold,
          value: metricsFile.gate.value,
          passed: metricsFile.gate.passed,
        }
      : null,
    promotion,
    metricsUri: metricsFile ? metricsUri : null,
    ...(waits.some((w) => w.waitedSeconds > 0)
      ? {
          capacityWait: {
            seconds: waits.reduce((sum, w) => sum + w.waitedSeconds, 0),
            claims: waits.map(({ quota, waitedSeconds, status }) => ({ quota, waitedSeconds, status })),
          },
        }
      : {}),
  };
}
