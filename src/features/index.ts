// Feature engineering: fitting transforms on training rows (fit) and applying them to raw rows (transform).
export {
  fitFeatureTransforms,
  componentsToKeep,
  type FitGroup,
  type FitOptions,
  type FitColumns,
  type Scaling,
} from './fit';
export {
  applyFeatureTransform,
  compileTransform,
  encodedWidth,
  featureLineTransformer,
  featureText,
  labelFirstRowTransformer,
  FeatureTransformError,
  type FeatureTransform,
} from './transform';
export { symmetricEigen } from './eigen';
