/**
 * Entity ids: a kind prefix and a UUID ("u-...", "m-...", "op-..."), so the kind is known from the id
 * alone, and an id of one kind can never be taken for another's. The UUID is derived from the operation
 * key of the request that registered the entity, so a retried registration finds its own entity.
 */
export const ENTITY_KINDS = ['user', 'merchant', 'operator'] as const;
export type EntityKind = (typeof ENTITY_KINDS)[number];

export const ENTITY_ID_PREFIXES: Readonly<Record<EntityKind, string>> = { user: 'u-', merchant: 'm-', operator: 'op-' };

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
export const ENTITY_ID_PATTERN = new RegExp(`^(u|m|op)-${UUID}$`);

export function entityIdOf(kind: EntityKind, uuid: string): string {
  const id = `${ENTITY_ID_PREFIXES[kind]}${uuid.toLowerCase()}`;
  if (!ENTITY_ID_PATTERN.test(id)) throw new Error(`not a UUID: ${uuid}`);
  return id;
}

export function isEntityId(value: string): boolean {
  return ENTITY_ID_PATTERN.test(value);
}

export function kindOfEntityId(entityId: string): EntityKind | undefined {
  if (!isEntityId(entityId)) return undefined;
  if (entityId.startsWith('op-')) return 'operator';
  return entityId.startsWith('m-') ? 'merchant' : 'user';
}
