import { HttpProblem, openAIError } from '../../core/errors.js';
import type { EncryptionContext, Keyring } from '../../core/keyring.js';
import type { Logger } from '../../core/logger.js';

/** After a failed decrypt, callers get the same answer without a new keyring call for this long. */
export const SECRET_RETRY_MS = 10_000;

export interface SecretLabel {
  virtualKey: string;
  workspace: string;
}

/**
 * A provider key as the control plane sent it (an Encryption SDK message), opened on first use
 * instead of at sync time: a full sync of 10,000 virtual keys would otherwise spend seconds of CPU
 * (or 10,000 KMS calls) before the gateway may serve anything. One instance per ciphertext, carried
 * from state to state while the virtual key is unchanged, so a secret is decrypted once per version;
 * concurrent first uses share one keyring call.
 */
export class SealedSecret {
  private value: string | undefined;
  private pending: Promise<string> | undefined;
  private failure: { problem: HttpProblem; at: number } | undefined;

  constructor(
    private readonly ciphertext: string,
    private readonly context: EncryptionContext,
    private readonly keyring: Keyring,
    private readonly logger: Logger,
    readonly label: SecretLabel,
  ) {}

  get ready(): boolean {
    return this.value !== undefined;
  }

  /** The plaintext when already opened (the hot path: no promise); otherwise the shared decrypt. */
  open(now = Date.now()): string | Promise<string> {
    if (this.value !== undefined) return this.value;
    if (this.pending) return this.pending;
    if (this.failure && now - this.failure.at < SECRET_RETRY_MS) return Promise.reject(this.failure.problem);
    this.pending = this.keyring.decrypt(this.ciphertext, this.context).then(
      (plain) => {
        this.value = plain.toString('utf8');
        this.pending = undefined;
        this.failure = undefined;
        return this.value;
      },
      (err: unknown) => {
        this.pending = undefined;
        this.failure = { problem: unavailable(this.label.virtualKey), at: Date.now() };
        // Which key and the keyring's reason only: never the ciphertext or any plaintext.
        this.logger.warn('virtual key unusable: its provider key does not decrypt with this keyring', {
          virtualKey: this.label.virtualKey,
          workspace: this.label.workspace,
          reason: String((err as Error)?.message ?? err).slice(0, 300),
        });
        throw this.failure.problem;
      },
    );
    return this.pending;
  }

  /** The plaintext; throws (503) when it has not been opened, which the pipeline's `openSecrets` prevents. */
  peek(): string {
    if (this.value !== undefined) return this.value;
    throw this.failure?.problem ?? unavailable(this.label.virtualKey);
  }
}

/**
 * 503: the virtual key exists, but this gateway cannot use its provider key right now (a keyring
 * that does not match the control plane's, a KMS grant missing, KMS unreachable). The caller did
 * nothing wrong and may retry; the reason stays in the gateway log.
 */
function unavailable(slug: string): HttpProblem {
  const message = `virtual key "${slug}" is unavailable on this gateway: its provider key could not be decrypted (the gateway log has the reason)`;
  return new HttpProblem(503, message, openAIError(message, 'api_error', 'virtual_key_unavailable'));
}
