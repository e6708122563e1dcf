// Fault injection so tests can exercise retries, throttling and failed jobs/endpoints deterministically.
import { SageMakerApiError } from './errors';

/** A call's request as a fault's `match` sees it (JSON bodies are objects). */
export type FaultRequest = Record<string, unknown>;

export interface InjectedFault {
  /** Control-plane operation ('CreateModel', 'DescribeEndpoint', …) or 'InvokeEndpoint'. */
  operation: string;
  errorName: string;
  message?: string;
  /** HTTP status; 400 unless given (e.g. 500 InternalFailure, 503 ServiceUnavailable). */
  statusCode?: number;
  /** How many matching calls fail; 1 unless given (Infinity = until clear()). */
  times?: number;
  /** Only calls whose request matches: the JSON body (for InvokeEndpoint: EndpointName, Body, ContentType, Accept). */
  match?: (request: FaultRequest) => boolean;
}

export interface FaultInjector {
  inject(fault: InjectedFault): void;
  /** The next `count` (default 1) created training jobs end Failed with this FailureReason. */
  failNextTrainingJobs(reason: string, count?: number): void;
  /** The next `count` (default 1) created transform jobs end Failed with this FailureReason. */
  failNextTransformJobs(reason: string, count?: number): void;
  /** The next `count` (default 1) created endpoints end Failed with this FailureReason. */
  failNextEndpoints(reason: string, count?: number): void;
  /** The next `count` (default 1) UpdateEndpoint calls fail to deploy: the endpoint rolls back to its old config. */
  failNextEndpointUpdates(reason: string, count?: number): void;
  /** Every call of `operation` waits `ms` before being served (until clear()). */
  delay(operation: string, ms: number): void;
  /**
   * The model container takes `ms` longer to answer every request (endpoint invocations and transform-job batches)
   * until clear(): the time counts against a serverless endpoint's 60 s.
   */
  slowModel(ms: number): void;
  clear(): void;
}

const DEFAULT_MESSAGES: Record<string, string> = {
  ThrottlingException: 'Rate exceeded',
  ServiceUnavailable: 'Service unavailable',
  InternalFailure: 'An internal error occurred',
};

export class FaultInjectorImpl implements FaultInjector {
  private faults: (InjectedFault & { remaining: number })[] = [];
  private readonly delays = new Map<string, number>();
  private trainingJobFailures: string[] = [];
  private transformJobFailures: string[] = [];
  private endpointFailures: string[] = [];
  private endpointUpdateFailures: string[] = [];
  private modelLatency = 0;

  inject(fault: InjectedFault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  failNextTrainingJobs(reason: string, count = 1): void {
    for (let i = 0; i < count; i++) this.trainingJobFailures.push(reason);
  }

  failNextTransformJobs(reason: string, count = 1): void {
    for (let i = 0; i < count; i++) this.transformJobFailures.push(reason);
  }

  failNextEndpoints(reason: string, count = 1): void {
    for (let i = 0; i < count; i++) this.endpointFailures.push(reason);
  }

  failNextEndpointUpdates(reason: string, count = 1): void {
    for (let i = 0; i < count; i++) this.endpointUpdateFailures.push(reason);
  }

  delay(operation: string, ms: number): void {
    this.delays.set(operation, ms);
  }

  slowModel(ms: number): void {
    this.modelLatency = ms;
  }

  /** The extra time the model container takes per request (slowModel). */
  get modelLatencyMs(): number {
    return this.modelLatency;
  }

  clear(): void {
    this.modelLatency = 0;
    this.faults = [];
    this.delays.clear();
    this.trainingJobFailures = [];
    this.transformJobFailures = [];
    this.endpointFailures = [];
    this.endpointUpdateFailures = [];
  }

  /** Consumes one use of the first fault that applies to this call. */
  takeFault(operation: string, request: unknown): SageMakerApiError | undefined {
    const fault = this.faults.find(
      (f) => f.operation === operation && f.remaining > 0 && (!f.match || safeMatch(f.match, request)),
    );
    if (!fault) return undefined;
    fault.remaining -= 1;
    this.faults = this.faults.filter((f) => f.remaining > 0);
    const message =
      fault.message ?? DEFAULT_MESSAGES[fault.errorName] ?? `${fault.errorName} (injected by the local SageMaker)`;
    return new SageMakerApiError(fault.errorName, message, fault.statusCode ?? 400);
  }

  delayFor(operation: string): number {
    return this.delays.get(operation) ?? 0;
  }

  takeTrainingJobFailure(): string | undefined {
    return this.trainingJobFailures.shift();
  }

  takeTransformJobFailure(): string | undefined {
    return this.transformJobFailures.shift();
  }

  takeEndpointFailure(): string | undefined {
    return this.endpointFailures.shift();
  }

  takeEndpointUpdateFailure(): string | undefined {
    return this.endpointUpdateFailures.shift();
  }
}

function safeMatch(match: (request: FaultRequest) => boolean, request: unknown): boolean {
  try {
    return match(request as FaultRequest);
  } catch {
    return false; // a throwing predicate means "not this call"
  }
}
