import { DomainError } from '../../domain/shared/domain-error.js';
import { VaultSubjectErased, type SecretVault, type VaultReference } from '../../ports/secret-vault.js';

/**
 * Text sealed under a user (its vault subject) and opened again, with an erased user answered as what it
 * is for the caller: `user_erased` (410), not a vault error. Shared by the identity and binding processes.
 */
function erased(subjectId: string): DomainError {
  return new DomainError('user_erased', `user ${subjectId} was erased`, { userId: subjectId });
}

export async function sealText(
  vault: SecretVault,
  subjectId: string,
  purpose: string,
  text: string,
): Promise<VaultReference> {
  try {
    return await vault.seal(subjectId, purpose, new TextEncoder().encode(text));
  } catch (error) {
    if (error instanceof VaultSubjectErased) throw erased(subjectId);
    throw error;
  }
}

export async function openText(vault: SecretVault, subjectId: string, reference: VaultReference): Promise<string> {
  const opened = await vault.open(reference);
  if (opened === 'erased') throw erased(subjectId);
  return new TextDecoder().decode(opened);
}
