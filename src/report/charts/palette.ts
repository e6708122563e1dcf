// One colour per class, the same in every chart of a report.

export function classColorScale(classes: string[]): { domain: string[]; scheme: 'tableau10' | 'tableau20' } {
  return { domain: classes, scheme: classes.length <= 10 ? 'tableau10' : 'tableau20' };
}

/** Regression targets are a quantity: a perceptually even sequential scheme. */
export const TARGET_SCHEME = 'viridis' as const;
