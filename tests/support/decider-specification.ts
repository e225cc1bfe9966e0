import { expect } from 'vitest';
import { DomainError, type DomainErrorCode } from '../../src/domain/shared/domain-error.js';

/**
 * Given / when / then for deciders, in the shape of Emmett's DeciderSpecification:
 *
 *   spec.given([accountOpened]).when(recharge).then([fundsRecharged])
 *   spec.given([]).when(recharge).thenRefuses('account_not_found')
 */
export interface Decider<Command, Event, State> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

export function deciderSpecification<Command, Event, State>(decider: Decider<Command, Event, State>) {
  return {
    given(events: readonly Event[]) {
      const state = events.reduce((s, e) => decider.evolve(s, e), decider.initialState());
      return {
        when(command: Command) {
          const run = () => decider.decide(command, state);
          return {
            then(expected: readonly Event[]) {
              expect(run()).toEqual(expected);
            },
            thenRefuses(code: DomainErrorCode, detail?: Record<string, string>) {
              let thrown: unknown;
              try {
                run();
              } catch (error) {
                thrown = error;
              }
              expect(thrown, `expected the command to be refused with ${code}`).toBeInstanceOf(DomainError);
              expect((thrown as DomainError).code).toBe(code);
              if (detail) expect((thrown as DomainError).details).toMatchObject(detail);
            },
          };
        },
      };
    },
  };
}
