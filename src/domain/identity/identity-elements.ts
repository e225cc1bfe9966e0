/**
 * The elements of a real-name verification: two (name, ID number), three (+ the phone registered to the
 * person) or four (+ a card of the person's). Events list them in this order.
 */
export const IDENTITY_ELEMENTS = ['name', 'id_number', 'phone', 'card_number'] as const;
export type IdentityElement = (typeof IDENTITY_ELEMENTS)[number];

export function elementsOf(withPhone: boolean, withCard: boolean): IdentityElement[] {
  return [
    'name',
    'id_number',
    ...(withPhone ? (['phone'] as const) : []),
    ...(withCard ? (['card_number'] as const) : []),
  ];
}

/**
 * A real name as Chinese services show it: every character masked but the last (`张三` -> `*三`), which
 * tells the user which identity it is without telling anyone else the name.
 */
export function maskedRealName(clear: string): string {
  const characters = [...clear];
  if (characters.length <= 1) return '*';
  return `${'*'.repeat(characters.length - 1)}${characters.at(-1)}`;
}
