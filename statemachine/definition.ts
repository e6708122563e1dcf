import { readFileSync } from 'node:fs';
import path from 'node:path';

export const DEFINITION_PATH = path.resolve(__dirname, 'pipeline.asl.json');

/** The fields of an Amazon States Language definition that this repository reads; the rest stay `unknown`. */
export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  TimeoutSeconds?: number;
  QueryLanguage?: string;
  [field: string]: unknown;
}

export interface AslRetrier {
  ErrorEquals: string[];
  [field: string]: unknown;
}

export interface AslCatcher {
  ErrorEquals: string[];
  Next: string;
  ResultPath?: string | null;
}

export interface AslChoiceRule {
  Next: string;
  [condition: string]: unknown;
}

/** The states of a Map iteration or a Parallel branch. */
export interface AslStates {
  StartAt: string;
  States: Record<string, AslState>;
  [field: string]: unknown;
}

interface AslStateFields {
  Next?: string;
  End?: boolean;
  Default?: string;
  InputPath?: string | null;
  ResultPath?: string | null;
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  QueryLanguage?: string;
  Retry?: AslRetrier[];
  Catch?: AslCatcher[];
  Choices?: AslChoiceRule[];
  ItemProcessor?: AslStates;
  Iterator?: AslStates;
  Branches?: AslStates[];
  [field: string]: unknown;
}

/** A Task names the service (or Lambda function) it runs in `Resource`; the other state types have none. */
export type AslState =
  | (AslStateFields & { Type: 'Task'; Resource: string })
  | (AslStateFields & { Type: 'Pass' | 'Choice' | 'Wait' | 'Succeed' | 'Fail' | 'Parallel' | 'Map' });

/** The one definition, its `${self:custom.asl.<Name>}` placeholders (resolved by Serverless on deploy) filled in. */
export function loadDefinition(substitutions: Record<string, string>, file = DEFINITION_PATH): AslDefinition {
  const text = readFileSync(file, 'utf8').replace(/\$\{self:custom\.asl\.(\w+)\}/g, (_match, name: string) => {
    const value = substitutions[name];
    if (value === undefined) throw new Error(`${file}: no local value for placeholder ${name}`);
    return value;
  });
  const leftover = /\$\{[^}]*\}/.exec(text);
  if (leftover) throw new Error(`${file}: unresolved placeholder ${leftover[0]}`);
  return JSON.parse(text) as AslDefinition; // the file's shape is checked as ASL by scripts/lint-asl.ts and the tests
}

/** Visits every state, including those nested in Map and Parallel states. */
export function forEachState(definition: AslDefinition, visit: (name: string, state: AslState) => void): void {
  const walk = (states: Record<string, AslState>) => {
    for (const [name, state] of Object.entries(states)) {
      visit(name, state);
      if (state.Type === 'Map') walk((state.ItemProcessor ?? state.Iterator)!.States);
      if (state.Type === 'Parallel') for (const branch of state.Branches!) walk(branch.States);
    }
  };
  walk(definition.States);
}

export function stateNames(definition: AslDefinition, predicate: (state: AslState) => boolean): string[] {
  const names: string[] = [];
  forEachState(definition, (name, state) => predicate(state) && names.push(name));
  return names;
}
