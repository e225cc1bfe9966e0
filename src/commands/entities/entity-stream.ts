/** Each entity's facts live on one stream, the consistency boundary for its keys and password. */
export function entityStreamId(entityId: string): string {
  return `entity-${entityId}`;
}
