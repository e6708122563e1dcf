import { modelOfServingConfig, NAME_SEPARATOR } from '../domain/naming';
import { deleteEndpointConfig, deleteModel, listEndpointConfigs, modelsOfEndpointConfig } from './sagemaker';

export interface PruneReport {
  retained: string[];
  deleted: { endpointConfig: string; model: string }[];
}

/**
 * Deletes serving configs (and their models) that the stable endpoint no longer uses, keeping the newest `keep`
 * configs — the current one included — for rollback. A config whose promotion has not settled (`isSettled` false:
 * its run is still queueing to promote it) is never deleted.
 */
export async function pruneServingConfigs(
  namePrefix: string,
  currentConfig: string,
  keep: number,
  isSettled: (config: string) => Promise<boolean> = async () => true,
): Promise<PruneReport> {
  const ours = `${namePrefix}${NAME_SEPARATOR}`;
  const configs = (await listEndpointConfigs(ours)).filter(
    (config) => config.name.startsWith(ours) && config.name.endsWith('-serve'),
  );
  const retained = [currentConfig, ...configs.map((c) => c.name).filter((name) => name !== currentConfig)].slice(
    0,
    Math.max(1, keep),
  );
  const inUse = new Set(await modelsOfEndpointConfig(currentConfig));
  const deleted: PruneReport['deleted'] = [];
  for (const config of configs) {
    if (retained.includes(config.name) || !(await isSettled(config.name))) continue;
    const model = modelOfServingConfig(config.name);
    await deleteEndpointConfig(config.name);
    if (!inUse.has(model)) await deleteModel(model);
    deleted.push({ endpointConfig: config.name, model });
  }
  return { retained, deleted };
}
