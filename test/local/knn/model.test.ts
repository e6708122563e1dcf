import { gzipSync } from 'node:zlib';
import { parseHyperparameters } from '../../../local/knn/hyperparameters';
import { type KnnModel, ModelArtifactError, packModelArtifact, unpackModelArtifact } from '../../../local/knn/model';
import { predict } from '../../../local/knn/predict';
import { readMembers, withMember, withMetadata } from './artifact';

/** Points on a line: the query 0 has neighbours 0 (label 0), 1 (label 1), 1.5 (label 1), 3 (label 4). */
function lineModel(overrides: Partial<KnnModel> = {}): KnnModel {
  return {
    hyperparameters: parseHyperparameters({
      feature_dim: '1',
      k: '1',
      predictor_type: 'classifier',
      sample_size: '10',
    }),
    dim: 1,
    metric: 'L2',
    predictorType: 'classifier',
    k: 1,
    points: new Float32Array([3, 1.5, 0, 1]),
    labels: new Float32Array([4, 1, 0, 1]),
    count: 4,
    ...overrides,
  };
}

describe('model artifact', () => {
  test('round-trips a model', async () => {
    const model = lineModel({
      points: new Float32Array([0.1, -2.5, 1e-30, 3.4e38]),
      labels: new Float32Array([0.5, 1, 2, 3]),
    });
    expect(await unpackModelArtifact(await packModelArtifact(model))).toEqual(model);
  });

  test('round-trips a model with sign dimension reduction', async () => {
    const model = lineModel({
      hyperparameters: parseHyperparameters({
        feature_dim: '3',
        k: '2',
        predictor_type: 'regressor',
        sample_size: '10',
        dimension_reduction_type: 'sign',
        dimension_reduction_target: '2',
        index_metric: 'COSINE',
      }),
      dim: 3,
      metric: 'COSINE',
      predictorType: 'regressor',
      k: 2,
      points: new Float32Array([1, 2, 3, 4]),
      labels: new Float32Array([1, 2]),
      count: 2,
      dimensionReduction: { type: 'sign', seed: 3, inputDim: 3, targetDim: 2 },
    });
    expect(await unpackModelArtifact(await packModelArtifact(model))).toEqual(model);
  });

  test('holds the three members of the real artifact', async () => {
    const members = await readMembers(await packModelArtifact(lineModel()));

    expect([...members.keys()]).toEqual(['model_algo-1', 'model_algo-1.labels', 'model_algo-1.json']);
    const labels = members.get('model_algo-1.labels')!;
    expect(Array.from({ length: 4 }, (_, i) => labels.readFloatLE(i * 4))).toEqual([4, 1, 0, 1]);
    expect(JSON.parse(members.get('model_algo-1.json')!.toString())).toMatchObject({
      k: 1,
      predictor_type: 'classifier',
      index_metric: 'L2',
      feature_dim: 1,
      count: 4,
      normalize: false,
      version: '1.0',
    });
    const index = members.get('model_algo-1')!;
    expect(index.toString('ascii', 0, 8)).toBe('KNNLOCAL');
    expect(index.length).toBe(24 + 4 * 4);
  });

  test('editing k and predictor_type in model_algo-1.json changes inference, as on AWS', async () => {
    const artifact = await packModelArtifact(lineModel());
    const query = [[0]];
    expect(predict(await unpackModelArtifact(artifact), query)[0].predicted_label).toBe(0);

    const withK3 = await unpackModelArtifact(await withMetadata(artifact, (metadata) => (metadata.k = 3)));
    expect(withK3.k).toBe(3);
    expect(withK3.hyperparameters.k).toBe(3);
    expect(predict(withK3, query)[0].predicted_label).toBe(1);

    const regressor = await unpackModelArtifact(
      await withMetadata(artifact, (metadata) => {
        metadata.k = 4;
        metadata.predictor_type = 'regressor';
      }),
    );
    expect(predict(regressor, query)[0].predicted_label).toBe(1.5);
  });

  test('reads an artifact whose json has only the documented fields', async () => {
    const artifact = await withMetadata(await packModelArtifact(lineModel()), (metadata) => {
      for (const key of Object.keys(metadata))
        if (!['k', 'predictor_type', 'feature_dim', 'normalize', 'version'].includes(key)) delete metadata[key];
    });
    const model = await unpackModelArtifact(artifact);
    expect(model).toMatchObject({ k: 1, dim: 1, count: 4, metric: 'L2' });
    expect(model.hyperparameters).toMatchObject({ featureDim: 1, sampleSize: 4, indexType: 'faiss.Flat' });
  });

  describe('a corrupt artifact fails with a ModelArtifactError that says what is wrong', () => {
    const cases: [string, () => Promise<Buffer>, RegExp][] = [
      ['not gzip', async () => Buffer.from('hello'), /not a gzip-compressed tar/],
      [
        'gzip but not tar',
        async () => gzipSync(Buffer.alloc(700, 7)),
        /not a readable tar archive|has no model_algo-1/,
      ],
      [
        'no json',
        async () => withMember(await packModelArtifact(lineModel()), 'model_algo-1.json', undefined),
        /has no model_algo-1\.json/,
      ],
      [
        'no labels',
        async () => withMember(await packModelArtifact(lineModel()), 'model_algo-1.labels', undefined),
        /has no model_algo-1\.labels/,
      ],
      [
        'short labels',
        async () => withMember(await packModelArtifact(lineModel()), 'model_algo-1.labels', Buffer.alloc(12)),
        /12 bytes but 4 float32 labels need 16/,
      ],
      [
        'foreign index',
        async () => withMember(await packModelArtifact(lineModel()), 'model_algo-1', Buffer.from('IxFI....')),
        /not a local k-NN index/,
      ],
      [
        'truncated index',
        async () => {
          const artifact = await packModelArtifact(lineModel());
          const index = (await readMembers(artifact)).get('model_algo-1')!;
          return withMember(artifact, 'model_algo-1', index.subarray(0, index.length - 4));
        },
        /needs 40/,
      ],
      [
        'bad json',
        async () => withMember(await packModelArtifact(lineModel()), 'model_algo-1.json', Buffer.from('{"k": ')),
        /not valid JSON/,
      ],
      [
        'k not a positive integer',
        async () => withMetadata(await packModelArtifact(lineModel()), (m) => (m.k = '5')),
        /"k" must be an integer greater than 0/,
      ],
      [
        'unknown predictor type',
        async () => withMetadata(await packModelArtifact(lineModel()), (m) => (m.predictor_type = 'ranker')),
        /"predictor_type" must be/,
      ],
      [
        'feature_dim disagrees with the index',
        async () => withMetadata(await packModelArtifact(lineModel()), (m) => (m.feature_dim = 2)),
        /stored dimension 2 but model_algo-1 stores 1/,
      ],
      [
        'count disagrees with the index',
        async () => withMetadata(await packModelArtifact(lineModel()), (m) => (m.count = 9)),
        /count 9/,
      ],
    ];
    test.each(cases)('%s', async (_, makeArtifact, message) => {
      const artifact = await makeArtifact();
      await expect(unpackModelArtifact(artifact)).rejects.toThrow(ModelArtifactError);
      await expect(unpackModelArtifact(artifact)).rejects.toThrow(message);
    });
  });
});
