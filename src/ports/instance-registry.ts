/**
 * The service instances sharing a ledger's stores, each with a heartbeat: who may still be working on
 * an idempotency claim (src/commands/claim-owners.ts). An instance records itself at start (before it
 * takes a request, so the owner of any claim is on record), beats while it runs, and marks itself ended
 * when it stops cleanly; one that dies just stops beating.
 *
 * Adapters: `sqlite` (a file under DATA_DIR, where every instance is on the one host the embedded store
 * allows: it also answers from the OS whether an instance's process has ended) and `mongo` (shared by
 * instances on any host). Both are held to tests/contract/instance-registry.contract.ts.
 */
export interface InstanceRegistry {
  readonly engine: 'sqlite' | 'mongo';
  /** Records a new instance, alive as of `now`. An id is used once: registering it again is refused. */
  register(instanceId: string, now: Date): Promise<void>;
  /** Its heartbeat: alive as of `now`. False when the instance is not on record or has ended. */
  beat(instanceId: string, now: Date): Promise<boolean>;
  /** A clean stop: the instance works on nothing any more (its process gives up what it held). */
  end(instanceId: string, now: Date): Promise<void>;
  /** The instance's record; undefined when it was never recorded or has been purged. */
  instance(instanceId: string): Promise<InstanceRecord | undefined>;
  /** At most `maxInstances` records, the latest heartbeat first. */
  list(maxInstances: number): Promise<InstanceRecord[]>;
  /** Removes at most `maxRows` records whose last heartbeat is before `before`; returns how many. */
  purgeSilentSince(before: Date, maxRows: number): Promise<number>;
  close(): Promise<void>;
}

export interface InstanceRecord {
  readonly instanceId: string;
  readonly startedAt: Date;
  readonly lastBeatAt: Date;
  /** When it stopped cleanly; null while it runs, or after it died without stopping. */
  readonly endedAt: Date | null;
  /**
   * True when the store knows the instance's process is gone although it never ended (the embedded
   * store: the OS lock the process held on its instance file is free); false when it cannot tell.
   */
  readonly processGone: boolean;
}

/** The most instances one listing returns, whatever is asked. */
export const MAX_INSTANCES_LISTED = 1_000;
/** The longest instance id a registry stores. */
export const MAX_INSTANCE_ID_LENGTH = 100;

/** Shared argument checks of the adapters: the limits above, asserted. */
export function checkInstanceId(instanceId: string): void {
  if (!/^[A-Za-z0-9._-]+$/.test(instanceId) || instanceId.length > MAX_INSTANCE_ID_LENGTH)
    throw new RangeError(`an instance id is 1 to ${MAX_INSTANCE_ID_LENGTH} of [A-Za-z0-9._-]`);
}

export function checkRowLimit(name: string, value: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new RangeError(`${name} must be an integer from 1 to ${max}`);
}
