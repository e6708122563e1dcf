import { PipelineError } from '../errors';

/** A run artifact the report reads (metrics.json, predictions.csv) does not have the shape the pipeline writes. */
export class ReportInputError extends PipelineError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ReportInputError';
  }
}
