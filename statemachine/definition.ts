import { readFileSync } from 'node:fs';
import path from 'node:path';

export const DEFINITION_PATH = path.resolve(__dirname, 'pipeline.asl.json');

/** The one definition, with its `${self:custom.asl.<Name>}` placeholders (resolved by Serverless on deploy) filled in. */
export function loadDefinition(substitutions: Record<string, string>, file = DEFINITION_PATH): any {
  const text = readFileSync(file, 'utf8').replace(/\$\{self:custom\.asl\.(\w+)\}/g, (_match, name: string) => {
    const value = substitutions[name];
    if (value === undefined) throw new Error(`${file}: no local value for placeholder ${name}`);
    return value;
  });
  const leftover = /\$\{[^}]*\}/.exec(text);
  if (leftover) throw new Error(`${file}: unresolved placeholder ${leftover[0]}`);
  return JSON.parse(text);
}

/** Visits every state, including those nested in Map and Parallel states. */
export function forEachState(definition: any, visit: (name: string, state: any) => void): void {
  const walk = (states: Record<string, any>) => {
    for (const [name, state] of Object.entries(states)) {
      visit(name, state);
      if (state.Type === 'Map') walk((state.ItemProcessor ?? state.Iterator).States);
      if (state.Type === 'Parallel') for (const branch of state.Branches) walk(branch.States);
    }
  };
  walk(definition.States);
}

export function stateNames(definition: any, predicate: (state: any) => boolean): string[] {
  const names: string[] = [];
  forEachState(definition, (name, state) => predicate(state) && names.push(name));
  return names;
}
