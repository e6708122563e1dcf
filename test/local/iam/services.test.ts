import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetExecutionHistoryCommand, ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { startLocalEventBridge, type LocalEventBridge } from '../../../local/eventbridge';
import { Authorizer } from '../../../local/iam/authorizer';
import { withInvokePermission } from '../../../local/iam/lambdaInvoke';
import { credentialsFor, type PrincipalId } from '../../../local/iam/principals';
import { loadPolicies } from '../../../local/iam/template';
import { startStepFunctionsApi, type LocalStepFunctionsApi } from '../../../local/stepfunctions/api';
import type { LocalStateMachine } from '../../../local/stepfunctions/runner';
import type { AslDefinition } from '../../../statemachine/definition';

const STATE_MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:knn-pipeline-local';
const execution = (stateMachine: string, name: string) =>
  `arn:aws:states:us-east-1:000000000000:execution:${stateMachine}:${name}`;

describe('local Step Functions API, EventBridge and Lambda invocations with IAM enforcement', () => {
  let authorizer: Authorizer;
  let api: LocalStepFunctionsApi;
  let bus: LocalEventBridge;
  const clients: { destroy(): void }[] = [];
  const sfn = (id: PrincipalId) => {
    const client = new SFNClient({
      endpoint: api.endpoint,
      region: 'us-east-1',
      credentials: credentialsFor(id),
      maxAttempts: 1,
    });
    clients.push(client);
    return client;
  };
  const events = (id: PrincipalId) => {
    const client = new EventBridgeClient({
      endpoint: bus.endpoint,
      region: 'us-east-1',
      credentials: credentialsFor(id),
      maxAttempts: 1,
    });
    clients.push(client);
    return client;
  };
  const rejection = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a rejection');
      },
      (error: unknown) => error as Error,
    );

  beforeAll(async () => {
    authorizer = new Authorizer(await loadPolicies());
    api = await startStepFunctionsApi({
      stateMachine: { executions: new Map() } as unknown as LocalStateMachine,
      stateMachineArn: STATE_MACHINE,
      definition: { StartAt: 'A', States: {} } as unknown as AslDefinition,
      roleArn: 'arn:aws:iam::000000000000:role/x',
      authorizer,
    });
    bus = await startLocalEventBridge({ authorizer, region: 'us-east-1', accountId: '000000000000' });
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) c.destroy();
    await api?.close();
    await bus?.close();
  });

  it('lets report read its stage executions’ history, and nothing else', async () => {
    const own = await rejection(
      sfn('function:report').send(
        new GetExecutionHistoryCommand({ executionArn: execution('knn-pipeline-local', 'run-1') }),
      ),
    );
    expect(own.name).toBe('ExecutionDoesNotExist'); // authorised: the service looked the execution up
    const other = await rejection(
      sfn('function:report').send(
        new GetExecutionHistoryCommand({ executionArn: execution('knn-pipeline-prod', 'run-1') }),
      ),
    );
    expect(other.name).toBe('AccessDeniedException');
    expect(other.message).toMatch(/is not authorized to perform: states:GetExecutionHistory/);
    const list = await rejection(sfn('function:prepare').send(new ListStateMachinesCommand({})));
    expect(list.name).toBe('AccessDeniedException');
    expect((await sfn('user').send(new ListStateMachinesCommand({}))).stateMachines).toHaveLength(1);
  });

  it('refuses PutEvents on a bus the caller may not use, as a whole request', async () => {
    const entry = { Source: 'knn-pipeline', DetailType: 'Pipeline Run Finished', Detail: '{}' };
    const error = await rejection(
      events('function:janitor').send(new PutEventsCommand({ Entries: [{ ...entry, EventBusName: 'other-bus' }] })),
    );
    expect(error.name).toBe('AccessDeniedException');
    expect(error.message).toMatch(
      /events:PutEvents on resource: "arn:aws:events:us-east-1:000000000000:event-bus\/other-bus"/,
    );
    const prepare = await rejection(events('function:prepare').send(new PutEventsCommand({ Entries: [entry] })));
    expect(prepare.name).toBe('AccessDeniedException');
    expect(bus.events).toHaveLength(0);
    const published = await events('user').send(new PutEventsCommand({ Entries: [entry] }));
    expect(published.FailedEntryCount).toBe(0);
    expect(bus.events).toHaveLength(1);
  });

  it('checks lambda:InvokeFunction for the state machine role on each Task', async () => {
    const calls: string[] = [];
    const lambdas = withInvokePermission(
      {
        'knn-pipeline-local-prepare': async () => calls.push('prepare'),
        'knn-pipeline-local-janitor': async () => calls.push('janitor'),
      },
      authorizer,
    );
    await lambdas['knn-pipeline-local-prepare']({});
    const error = await rejection(lambdas['knn-pipeline-local-janitor']({}));
    expect(error.name).toBe('Lambda.AWSLambdaException');
    expect(error.message).toMatch(
      /is not authorized to perform: lambda:InvokeFunction on resource: "arn:aws:lambda:us-east-1:000000000000:function:knn-pipeline-local-janitor".*Status Code: 403; Error Code: AccessDeniedException/,
    );
    expect(calls).toEqual(['prepare']);
  });
});
