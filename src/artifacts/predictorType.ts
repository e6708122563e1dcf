import { z } from 'zod';

// A leaf module on purpose: src/domain can import the one PredictorType without an import cycle.
export const PredictorTypeSchema = z.enum(['classifier', 'regressor']);
export type PredictorType = z.infer<typeof PredictorTypeSchema>;
