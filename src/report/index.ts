// The run report: renderRunReport turns a RunReportInput into one self-contained HTML page.
// Rendering pulls in Vega (about 1 MB minified); a caller that only builds the input can import ./fromArtifacts alone.
export { renderRunReport, renderRunReportAsDataArrives } from './render';
export {
  reportInputFromArtifacts,
  reportInputFromStreams,
  readRunData,
  reportInputFromRunData,
  reportInputBeforeData,
  parsePredictionsCsv,
  ReportInputError,
  type RunData,
} from './fromArtifacts';
export { costFromRun, endpointLifetimeSeconds, type RunInstances } from './usage';
export { estimateCost, INSTANCE_PRICES, type CostEstimate, type CostLine } from './cost';
export type * from './types';
export type * from './artifacts';
