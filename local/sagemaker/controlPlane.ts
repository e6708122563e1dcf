// The SageMaker control plane's operations by X-Amz-Target name.
import type { Json, LocalSageMakerContext } from './context';
import {
  createEndpointConfig,
  deleteEndpointConfig,
  describeEndpointConfig,
  listEndpointConfigs,
} from './endpointConfigs';
import { createEndpoint, deleteEndpoint, describeEndpoint, listEndpoints, updateEndpoint } from './endpoints';
import { SageMakerApiError } from './errors';
import { createModel, deleteModel, describeModel, listModels } from './models';
import { addTags, deleteTags, listTags } from './tags';
import { createTrainingJob, describeTrainingJob, listTrainingJobs, stopTrainingJob } from './trainingJobs';
import {
  createHyperParameterTuningJob,
  describeHyperParameterTuningJob,
  listTrainingJobsForHyperParameterTuningJob,
  stopHyperParameterTuningJob,
} from './tuningJobs';
import { createTransformJob, describeTransformJob, listTransformJobs, stopTransformJob } from './transformJobs';

type Operation = (context: LocalSageMakerContext, request: Json) => Json;

const OPERATIONS: Record<string, Operation> = {
  CreateTrainingJob: createTrainingJob,
  DescribeTrainingJob: describeTrainingJob,
  StopTrainingJob: stopTrainingJob,
  ListTrainingJobs: listTrainingJobs,
  CreateHyperParameterTuningJob: createHyperParameterTuningJob,
  DescribeHyperParameterTuningJob: describeHyperParameterTuningJob,
  StopHyperParameterTuningJob: stopHyperParameterTuningJob,
  ListTrainingJobsForHyperParameterTuningJob: listTrainingJobsForHyperParameterTuningJob,
  CreateTransformJob: createTransformJob,
  DescribeTransformJob: describeTransformJob,
  StopTransformJob: stopTransformJob,
  ListTransformJobs: listTransformJobs,
  CreateModel: createModel,
  DescribeModel: describeModel,
  DeleteModel: deleteModel,
  ListModels: listModels,
  CreateEndpointConfig: createEndpointConfig,
  DescribeEndpointConfig: describeEndpointConfig,
  DeleteEndpointConfig: deleteEndpointConfig,
  ListEndpointConfigs: listEndpointConfigs,
  CreateEndpoint: createEndpoint,
  DescribeEndpoint: describeEndpoint,
  DeleteEndpoint: deleteEndpoint,
  UpdateEndpoint: updateEndpoint,
  ListEndpoints: listEndpoints,
  AddTags: addTags,
  ListTags: listTags,
  DeleteTags: deleteTags,
};

export const CONTROL_PLANE_OPERATIONS = Object.keys(OPERATIONS);

export function runControlPlaneOperation(context: LocalSageMakerContext, operationName: string, request: Json): Json {
  const operation = Object.hasOwn(OPERATIONS, operationName) ? OPERATIONS[operationName] : undefined;
  if (!operation)
    throw new SageMakerApiError(
      'UnknownOperationException',
      `Operation ${operationName} is not supported by the local SageMaker.`,
    );
  return operation(context, request);
}
