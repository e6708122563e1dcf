// The one place the local cloud touches the k-NN algorithm (local/knn): the "container" of jobs and endpoints.
import { InferenceInputError, KnnClientError } from '../knn/errors';
import { formatInferenceResponse, parseAcceptHeader, parseInferenceRequest } from '../knn/inference';
import { type KnnModel, packModelArtifact, unpackModelArtifact } from '../knn/model';
import { predictAsync } from '../knn/predict';
import type { ChannelRows } from '../knn/channelParser';
import { startKnnTraining } from '../knn/train';

export type { ChannelRows } from '../knn/channelParser';

export interface KnnTrainingOutput {
  model: unknown;
  log: string[];
  finalMetrics: { MetricName: string; Value: number }[];
}

/** Reads one channel (or one host's share of it) as its objects stream in. */
export interface ChannelReader {
  write(chunk: Uint8Array): void;
  /** The end of one object: its last line ends there. */
  endObject(): void;
  end(): ChannelRows;
}

/** A training job inside the container: hyperparameters validated, channels read, then trained. */
export interface KnnTraining {
  channelReader(channel: 'train' | 'test', host?: { index: number; count: number }): ChannelReader;
  /** `hosts`: the train rows each host received. The array is emptied once sampled, so the rows can be collected. */
  train(input: { hosts: ChannelRows[]; test?: ChannelRows; seed: number }): KnnTrainingOutput;
}

export const knnAlgorithm = {
  /** Validates the hyperparameters (KnnClientError) and returns the job's channel readers and trainer. */
  startTraining(hyperparameters: Record<string, string>): KnnTraining {
    const session = startKnnTraining(hyperparameters);
    return {
      channelReader: (channel, host) => session.channelParser(channel, host),
      train: (input) => session.train(input),
    };
  },

  packModel(model: unknown): Promise<Buffer> {
    return packModelArtifact(model as KnnModel);
  },

  unpackModel(artifact: Buffer): Promise<unknown> {
    return unpackModelArtifact(artifact);
  },

  featureDim(model: unknown): number {
    return (model as KnnModel).dim;
  },

  /** Parse → predict → format, as the container's /invocations handler does; the search runs off the event loop. */
  async invoke(
    model: unknown,
    body: Buffer,
    contentType: string,
    accept: string,
    featureDim: number,
  ): Promise<{ body: Buffer; contentType: string }> {
    const queries = parseInferenceRequest(body, contentType, featureDim);
    // Neighbour labels and distances only when the caller asked for them (Accept: …; verbose=true).
    const { verbose } = parseAcceptHeader(accept);
    const predictions = await predictAsync(model as KnnModel, queries, { verbose });
    const response = formatInferenceResponse(predictions, accept);
    return { body: Buffer.from(response.body, 'utf8'), contentType: response.contentType };
  },

  isClientError(error: unknown): boolean {
    return error instanceof KnnClientError || (error instanceof Error && error.message.startsWith('ClientError: '));
  },

  isInferenceInputError(error: unknown): boolean {
    return error instanceof InferenceInputError;
  },

  /** The status the container answers a rejected payload with: 400 unless the error carries its own. */
  inferenceErrorStatus(error: unknown): number {
    const status = (error as { statusCode?: unknown }).statusCode;
    return typeof status === 'number' ? status : 400;
  },
};
