// Feature transforms for a channel set: each one fitted on the rows of one training channel and applied to the
// channels it serves (the final train/test, each fold's train/test, tuning's train/validation), so held-out rows
// never shape the transform that is applied to them.
import type { FeatureTransform } from '../artifacts/schemas';
import { fitFeatureTransforms, labelFirstRowTransformer, type FitColumns, type FitOptions } from '../features';
import { ChannelPlanError, type ChannelSpec } from './plan';
import { TUNING_TRAIN_CHANNEL, TUNING_VALIDATION_CHANNEL } from './splitChannels';
import type { ChannelSource } from './writer';

/** One transform: fitted on the rows of the channel `fitOn`, applied to every channel of `appliesTo`. */
export interface TransformGroup {
  fitOn: string;
  appliesTo: string[];
}

/** The transform groups of a split's channels (splitChannels): the final train/test, each fold's, then tuning's. */
export function splitTransformGroups(channels: ChannelSpec[]): TransformGroup[] {
  const groups: TransformGroup[] = [{ fitOn: 'train', appliesTo: ['test', 'train'] }];
  for (const { name } of channels) {
    const fold = /^(fold-\d+)\/train$/.exec(name);
    if (fold) groups.push({ fitOn: name, appliesTo: [`${fold[1]}/test`, name] });
  }
  // Tuning: fitted on the tuning jobs' train rows, so the validation rows do not shape the transform either.
  if (channels.some(({ name }) => name === TUNING_TRAIN_CHANNEL)) {
    groups.push({ fitOn: TUNING_TRAIN_CHANNEL, appliesTo: [TUNING_VALIDATION_CHANNEL, TUNING_TRAIN_CHANNEL] });
  }
  return groups;
}

/**
 * Fits every group's transform in one pass over `source` (label-first rows) and returns the channels with their
 * row transforms attached, and the transforms in group order. Channels no group names are written unchanged.
 */
export async function withFittedTransforms(
  source: ChannelSource,
  channels: ChannelSpec[],
  groups: TransformGroup[],
  columns: FitColumns,
  options: FitOptions,
): Promise<{ channels: ChannelSpec[]; transforms: FeatureTransform[] }> {
  const byName = new Map(channels.map((channel) => [channel.name, channel]));
  const channelNamed = (name: string) => {
    const channel = byName.get(name);
    if (!channel) throw new ChannelPlanError(`no channel named ${name} in the channel set`);
    return channel;
  };
  const transforms = await fitFeatureTransforms(
    source,
    groups.map((group) => ({ channel: group.fitOn, rows: channelNamed(group.fitOn).rows })),
    columns,
    options,
  );
  const transformOf = new Map<string, FeatureTransform>();
  groups.forEach((group, g) => {
    for (const name of group.appliesTo) {
      channelNamed(name);
      if (transformOf.has(name)) throw new ChannelPlanError(`channel ${name} is in two transform groups`);
      transformOf.set(name, transforms[g]);
    }
  });
  return {
    channels: channels.map((channel) => {
      const transform = transformOf.get(channel.name);
      return transform ? { ...channel, transformRow: labelFirstRowTransformer(transform) } : channel;
    }),
    transforms,
  };
}
