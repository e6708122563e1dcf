// Public entry of the local SageMaker (control plane + runtime emulator).
export {
  startLocalSageMaker,
  type LocalSageMaker,
  type LocalSageMakerOptions,
  type LocalSageMakerTiming,
  type FaultInjector,
  type InjectedFault,
  type AccountQuotas,
  type PeakUsage,
} from './server';
