// The local k-NN algorithm's public API (the local SageMaker servers use these; see README.md for the deviations).
export { ExactIndex, type SearchOptions, type SearchResult } from './engine';
export { searchWorkerCount, startSearchWorkers, stopSearchWorkers } from './searchWorkers';
export { InferenceInputError, KnnClientError, ModelArtifactError } from './errors';
export {
  type IndexMetric,
  type IndexType,
  type KnnHyperparameters,
  type PredictorType,
  formatHyperparameters,
  parseHyperparameters,
} from './hyperparameters';
export { formatInferenceResponse, parseAcceptHeader, parseInferenceRequest } from './inference';
export { type KnnModel, packModelArtifact, unpackModelArtifact } from './model';
export { type Prediction, predict } from './predict';
export { pythonFloatRepr, pythonJsonFloat } from './pythonFloat';
export { sampleRows } from './sampling';
export {
  type HostChannels,
  type KnnTrainingSession,
  type TrainingInput,
  type TrainingResult,
  perWorkerSampleSizes,
  startKnnTraining,
  trainKnn,
} from './train';
export { type ChannelRows, LabelFirstCsvParser, parseChannelText } from './channelParser';
