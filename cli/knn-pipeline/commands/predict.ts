// `knn-pipeline predict FILE`: labels for raw rows from the model behind the stable endpoint (serving mode). The
// built-in k-NN container cannot transform its input, so the rows go through the feature transform recorded by the
// run whose config is serving (after a rollback: the earlier run's), then to InvokeEndpoint as text/csv.
import { readFileSync } from 'node:fs';
import { DescribeEndpointCommand, ListEndpointsCommand } from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { parse } from 'csv-parse/sync';
import type { FeatureTransform, Manifest } from '../../../src/artifacts';
import { parsePredictions } from '../../../src/domain/evaluation';
import { prefixOfServingEndpoint, runIdOfServingConfig, runLayout } from '../../../src/domain/naming';
import { compileTransform, featureText } from '../../../src/features';
import { CliError, EXIT, type Io } from '../../common/io';
import { readObject } from '../../common/report';
import type { Target } from '../../common/target';

export interface PredictOptions {
  endpoint?: string;
  json?: boolean;
}

/** One predicted row: its number in the file (1 = first data row), the label and, for a classifier, its index. */
export interface Prediction {
  row: number;
  label: string;
  value: number;
}

export interface PredictResult {
  endpoint: string;
  endpointConfig: string;
  runId: string;
  transformed: boolean;
  predictions: Prediction[];
}

const ROWS_PER_REQUEST = 1000;

async function stableEndpoint(target: Target, given: string | undefined): Promise<string> {
  if (given) return given;
  const { Endpoints = [] } = await target.sageMaker.send(new ListEndpointsCommand({ NameContains: '--serving' }));
  const serving = Endpoints.map((endpoint) => endpoint.EndpointName!).filter((name) => name.endsWith('--serving'));
  if (serving.length === 1) return serving[0];
  throw new CliError(
    serving.length === 0
      ? `No stable endpoint (<prefix>--serving) on ${target.description}: run with --serve first, or pass --endpoint`
      : `Several stable endpoints (${serving.join(', ')}): pass --endpoint`,
  );
}

async function readJson<T>(target: Target, key: string, what: string): Promise<T> {
  const text = await readObject(target, key);
  if (text === undefined) throw new CliError(`${what} s3://${target.bucket}/${key} does not exist`);
  return JSON.parse(text) as T;
}

export async function predict(target: Target, file: string, options: PredictOptions): Promise<PredictResult> {
  if (!target.sageMakerRuntime) throw new CliError('predict needs a target that can invoke endpoints');
  const endpoint = await stableEndpoint(target, options.endpoint);
  const described = await target.sageMaker.send(new DescribeEndpointCommand({ EndpointName: endpoint }));
  const endpointConfig = described.EndpointConfigName!;
  const runId = runIdOfServingConfig(endpointConfig, prefixOfServingEndpoint(endpoint));
  if (runId === undefined) {
    throw new CliError(`${endpoint} serves ${endpointConfig}, which is not a serving config of a pipeline run`);
  }
  const layout = runLayout(target.runsPrefix, runId);
  const manifest = await readJson<Manifest>(target, layout.manifest, `The manifest of run ${runId}`);
  const transform = manifest.features?.transformed
    ? await readJson<FeatureTransform>(target, layout.transform, `The feature transform of run ${runId}`)
    : null;

  const records = parse(readFileSync(file), { columns: true, skip_empty_lines: true, trim: true }) as Record<
    string,
    string
  >[];
  const missing = manifest.featureNames.filter((name) => records.length > 0 && !(name in records[0]));
  if (missing.length) {
    throw new CliError(
      `${file} lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} that run ${runId}'s model was trained on (${manifest.featureNames.join(', ')})`,
    );
  }
  const apply = transform ? compileTransform(transform) : undefined;
  const lines = records.map((record, index) => {
    const cells = manifest.featureNames.map((name) => record[name]);
    return apply ? featureText(apply(cells, `${file} row ${index + 1}`)) : cells.join(',');
  });
  const predictions: Prediction[] = [];
  for (let first = 0; first < lines.length; first += ROWS_PER_REQUEST) {
    const batch = lines.slice(first, first + ROWS_PER_REQUEST);
    const response = await target.sageMakerRuntime.send(
      new InvokeEndpointCommand({
        EndpointName: endpoint,
        ContentType: 'text/csv',
        Accept: 'application/json',
        Body: `${batch.join('\n')}\n`,
      }),
    );
    const values = parsePredictions(new TextDecoder().decode(response.Body), batch.length);
    values.forEach((value, index) =>
      predictions.push({
        row: first + index + 1,
        value,
        label: manifest.classes ? (manifest.classes[value] ?? `unknown(${value})`) : String(value),
      }),
    );
  }
  return { endpoint, endpointConfig, runId, transformed: transform !== null, predictions };
}

export async function predictCommand(target: Target, file: string, options: PredictOptions, io: Io): Promise<number> {
  const result = await predict(target, file, options);
  if (options.json) {
    io.out(JSON.stringify(result, null, 2));
    return EXIT.ok;
  }
  io.err(
    `${result.predictions.length} rows from ${result.endpoint} (config ${result.endpointConfig}, run ${result.runId}${result.transformed ? ', through its feature transform' : ''})`,
  );
  io.out('row,predicted_label');
  for (const prediction of result.predictions) io.out(`${prediction.row},${prediction.label}`);
  return EXIT.ok;
}
