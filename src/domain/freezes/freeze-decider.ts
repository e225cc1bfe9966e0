import { DomainError, assert } from '../shared/domain-error.js';
import type { FreezeEvent } from './freeze-events.js';
import { formatAmount } from '../money/money.js';

type Requested = Extract<FreezeEvent, { type: 'FreezeRequested' }>['data'];

export interface Deduction {
  readonly deductionId: string;
  readonly amountMinor: bigint;
  readonly payeeAccountId: string;
  readonly memo: string;
  readonly status: 'requested' | 'completed' | 'failed';
}

export type FreezeState =
  | { readonly exists: false }
  | {
      readonly exists: true;
      readonly request: Requested;
      readonly status: 'requested' | 'placed' | 'refused';
      /** Still held: placed minus released minus deductions not failed. Never negative. */
      readonly remainingMinor: bigint;
      readonly releasedMinor: bigint;
      readonly deductions: ReadonlyMap<string, Deduction>;
      /** Each release by id: its amount, and whether its account step is done (a resume finishes it). */
      readonly releases: ReadonlyMap<string, { readonly amountMinor: bigint; readonly applied: boolean }>;
    };

export type FreezeCommand =
  | { readonly type: 'RequestFreeze'; readonly request: Requested }
  | { readonly type: 'ConfirmFreeze'; readonly freezeId: string }
  | { readonly type: 'RefuseFreeze'; readonly freezeId: string; readonly reasonCode: string; readonly reason: string }
  | {
      readonly type: 'ReleaseFreeze';
      readonly freezeId: string;
      readonly releaseId: string;
      readonly amountMinor: bigint | null;
      readonly reason: string;
    }
  | { readonly type: 'ConfirmRelease'; readonly freezeId: string; readonly releaseId: string }
  | {
      readonly type: 'RequestDeduction';
      readonly freezeId: string;
      readonly deductionId: string;
      readonly amountMinor: bigint;
      readonly payeeAccountId: string;
      readonly memo: string;
    }
  | { readonly type: 'CompleteDeduction'; readonly freezeId: string; readonly deductionId: string }
  | {
      readonly type: 'FailDeduction';
      readonly freezeId: string;
      readonly deductionId: string;
      readonly reasonCode: string;
      readonly reason: string;
      readonly returnedToAvailable: boolean;
    };

export function evolveFreeze(state: FreezeState, event: FreezeEvent): FreezeState {
  if (event.type === 'FreezeRequested') {
    return {
      exists: true,
      request: event.data,
      status: 'requested',
      remainingMinor: 0n,
      releasedMinor: 0n,
      deductions: new Map(),
      releases: new Map(),
    };
  }
  assert(state.exists, 'a freeze event follows FreezeRequested');
  switch (event.type) {
    case 'FreezePlaced':
      return { ...state, status: 'placed', remainingMinor: state.request.amountMinor };
    case 'FreezeRefused':
      return { ...state, status: 'refused' };
    case 'FreezeReleased': {
      assert(event.data.amountMinor <= state.remainingMinor, 'a release takes only what the freeze holds');
      return {
        ...state,
        remainingMinor: state.remainingMinor - event.data.amountMinor,
        releasedMinor: state.releasedMinor + event.data.amountMinor,
        releases: new Map(state.releases).set(event.data.releaseId, {
          amountMinor: event.data.amountMinor,
          applied: false,
        }),
      };
    }
    case 'FreezeReleaseApplied': {
      const release = state.releases.get(event.data.releaseId);
      assert(release !== undefined, 'a release is applied after it is reserved');
      return { ...state, releases: new Map(state.releases).set(event.data.releaseId, { ...release, applied: true }) };
    }
    case 'FreezeDeductionRequested': {
      assert(event.data.amountMinor <= state.remainingMinor, 'a deduction takes only what the freeze holds');
      const deduction: Deduction = { ...event.data, status: 'requested' };
      return {
        ...state,
        remainingMinor: state.remainingMinor - event.data.amountMinor,
        deductions: new Map(state.deductions).set(event.data.deductionId, deduction),
      };
    }
    case 'FreezeDeductionCompleted':
    case 'FreezeDeductionFailed': {
      const deduction = state.deductions.get(event.data.deductionId);
      assert(deduction?.status === 'requested', 'a deduction outcome follows its request');
      const status = event.type === 'FreezeDeductionCompleted' ? 'completed' : 'failed';
      // A deduction that failed before the money left the account leaves it frozen under this freeze.
      const stillFrozen = event.type === 'FreezeDeductionFailed' && !event.data.returnedToAvailable;
      return {
        ...state,
        remainingMinor: state.remainingMinor + (stillFrozen ? deduction.amountMinor : 0n),
        deductions: new Map(state.deductions).set(deduction.deductionId, { ...deduction, status }),
      };
    }
  }
}

/** What a refused release or deduction tells the client: what is left, in major units like every amount. */
function remainingDetails(freezeId: string, freeze: Extract<FreezeState, { exists: true }>): Record<string, string> {
  const currency = freeze.request.currency;
  return { freezeId, remainingAmount: formatAmount(freeze.remainingMinor, currency), currency };
}

function requireFreeze(state: FreezeState, freezeId: string): Extract<FreezeState, { exists: true }> {
  if (!state.exists) throw new DomainError('freeze_not_found', `freeze ${freezeId} does not exist`, { freezeId });
  return state;
}

export function decideFreezeProcess(command: FreezeCommand, state: FreezeState): FreezeEvent[] {
  switch (command.type) {
    case 'RequestFreeze':
      return state.exists ? [] : [{ type: 'FreezeRequested', data: command.request }];
    case 'ConfirmFreeze':
    case 'RefuseFreeze': {
      const freeze = requireFreeze(state, command.freezeId);
      if (freeze.status !== 'requested') return [];
      return command.type === 'ConfirmFreeze'
        ? [{ type: 'FreezePlaced', data: { freezeId: command.freezeId } }]
        : [
            {
              type: 'FreezeRefused',
              data: { freezeId: command.freezeId, reasonCode: command.reasonCode, reason: command.reason },
            },
          ];
    }
    case 'ReleaseFreeze': {
      const freeze = requireFreeze(state, command.freezeId);
      if (freeze.releases.has(command.releaseId)) return [];
      if (freeze.status !== 'placed')
        throw new DomainError('operation_state_conflict', `freeze ${command.freezeId} is ${freeze.status}`, {
          freezeId: command.freezeId,
        });
      const amountMinor = command.amountMinor ?? freeze.remainingMinor;
      if (amountMinor <= 0n || amountMinor > freeze.remainingMinor) {
        throw new DomainError(
          'release_exceeds_frozen',
          `freeze ${command.freezeId} holds ${formatAmount(freeze.remainingMinor, freeze.request.currency)} ${freeze.request.currency}`,
          remainingDetails(command.freezeId, freeze),
        );
      }
      return [
        {
          type: 'FreezeReleased',
          data: { freezeId: command.freezeId, releaseId: command.releaseId, amountMinor, reason: command.reason },
        },
      ];
    }
    case 'ConfirmRelease': {
      const freeze = requireFreeze(state, command.freezeId);
      const release = freeze.releases.get(command.releaseId);
      if (!release)
        throw new DomainError('operation_not_found', `release ${command.releaseId} does not exist`, {
          releaseId: command.releaseId,
        });
      return release.applied
        ? []
        : [{ type: 'FreezeReleaseApplied', data: { freezeId: command.freezeId, releaseId: command.releaseId } }];
    }
    case 'RequestDeduction': {
      const freeze = requireFreeze(state, command.freezeId);
      if (freeze.deductions.has(command.deductionId)) return [];
      if (freeze.status !== 'placed')
        throw new DomainError('operation_state_conflict', `freeze ${command.freezeId} is ${freeze.status}`, {
          freezeId: command.freezeId,
        });
      if (command.amountMinor <= 0n || command.amountMinor > freeze.remainingMinor) {
        throw new DomainError(
          'deduction_exceeds_frozen',
          `freeze ${command.freezeId} holds ${formatAmount(freeze.remainingMinor, freeze.request.currency)} ${freeze.request.currency}`,
          remainingDetails(command.freezeId, freeze),
        );
      }
      if (command.payeeAccountId === freeze.request.accountId)
        throw new DomainError('same_account', 'a deduction pays another account');
      return [
        {
          type: 'FreezeDeductionRequested',
          data: {
            freezeId: command.freezeId,
            deductionId: command.deductionId,
            amountMinor: command.amountMinor,
            payeeAccountId: command.payeeAccountId,
            memo: command.memo,
          },
        },
      ];
    }
    case 'CompleteDeduction':
    case 'FailDeduction': {
      const freeze = requireFreeze(state, command.freezeId);
      const deduction = freeze.deductions.get(command.deductionId);
      if (!deduction)
        throw new DomainError('operation_not_found', `deduction ${command.deductionId} does not exist`, {
          deductionId: command.deductionId,
        });
      if (deduction.status !== 'requested') return [];
      return command.type === 'CompleteDeduction'
        ? [{ type: 'FreezeDeductionCompleted', data: { freezeId: command.freezeId, deductionId: command.deductionId } }]
        : [
            {
              type: 'FreezeDeductionFailed',
              data: {
                freezeId: command.freezeId,
                deductionId: command.deductionId,
                reasonCode: command.reasonCode,
                reason: command.reason,
                returnedToAvailable: command.returnedToAvailable,
              },
            },
          ];
    }
  }
}

export const freezeDecider = {
  decide: decideFreezeProcess,
  evolve: evolveFreeze,
  initialState: (): FreezeState => ({ exists: false }),
};
