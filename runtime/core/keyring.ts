/**
 * Envelope encryption port. Every secret (a virtual key's provider key, later logs) is an
 * AWS Encryption SDK message: a data key wrapped by the keyring (KMS in AWS, raw AES locally),
 * bound to an encryption context that names the org and workspace, so a ciphertext moved to
 * another tenant fails to decrypt.
 */
export type EncryptionContext = Record<string, string>;

export interface Keyring {
  /** Returns the Encryption SDK message, base64. */
  encrypt(plaintext: string | Uint8Array, context: EncryptionContext): Promise<string>;
  /** Rejects unless every entry of `expectedContext` is in the message's context. */
  decrypt(ciphertext: string, expectedContext: EncryptionContext): Promise<Buffer>;
}

export function virtualKeyContext(organisationId: string, workspaceId: string, slug: string): EncryptionContext {
  return { tollgate_org: organisationId, tollgate_workspace: workspaceId, tollgate_purpose: 'virtual-key', tollgate_slug: slug };
}
