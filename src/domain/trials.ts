// The trials of a tuning job and the choice of the one that trains the final model (apart from tuning.ts, so that
// RecordTuning does not bundle the option schemas).
import { PipelineError } from '../errors';
import type { TuningObjective } from './tuning';

/** Hyperparameters compared, in order, when trials tie on the objective. */
const TIE_ORDER = ['k', 'sample_size'] as const;

/** One training job of the tuning job, as recorded in the trials artifact. */
export interface Trial {
  trainingJobName: string;
  status: string;
  /** The tuned hyperparameters only (k, sample_size), as SageMaker sent them. */
  hyperParameters: Record<string, string>;
  /** The objective on the validation split; absent when the job produced none (failed, stopped). */
  objective?: number;
}

const numberOf = (value: string | undefined) => (value === undefined ? Number.POSITIVE_INFINITY : Number(value));

/**
 * The trial that trains the final model: the best objective; among equals the smallest k, then the smallest
 * sample_size, then the job name. SageMaker does not document how BestTrainingJob breaks ties, so the pipeline
 * decides itself and the choice is the same on AWS and locally.
 */
export function chooseTrial(trials: readonly Trial[], objective: TuningObjective): Trial | undefined {
  const better = objective.type === 'Maximize' ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
  let best: Trial | undefined;
  for (const trial of trials) {
    if (trial.objective === undefined || !Number.isFinite(trial.objective)) continue;
    if (!best || better(trial.objective, best.objective!)) best = trial;
    else if (trial.objective === best.objective && tieOrder(trial, best) < 0) best = trial;
  }
  return best;
}

function tieOrder(a: Trial, b: Trial): number {
  for (const name of TIE_ORDER) {
    const diff = numberOf(a.hyperParameters[name]) - numberOf(b.hyperParameters[name]);
    if (diff !== 0) return diff;
  }
  return a.trainingJobName < b.trainingJobName ? -1 : a.trainingJobName > b.trainingJobName ? 1 : 0;
}

/** The run's trials with the chosen one, and the hyperparameters that train the final model. */
export function tuningOutcome(
  trials: readonly Trial[],
  objective: TuningObjective,
  baseHyperParameters: Record<string, string>,
): { chosen: Trial; trials: (Trial & { chosen: boolean })[]; hyperParameters: Record<string, string> } {
  const chosen = chooseTrial(trials, objective);
  if (!chosen)
    throw new TuningFailedError(
      `none of the ${trials.length} training jobs of the tuning job reported ${objective.metricName}; nothing to choose from`,
    );
  return {
    chosen,
    trials: trials.map((trial) => ({ ...trial, chosen: trial === chosen })),
    hyperParameters: { ...baseHyperParameters, ...chosen.hyperParameters },
  };
}

export class TuningFailedError extends PipelineError {
  override name = 'TuningFailedError';
}
