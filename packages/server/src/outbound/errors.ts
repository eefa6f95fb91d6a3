/**
 * The one error type the outbound guard throws. `message` is written for the URL's owner: it names
 * the rule or the failure class, never content from the remote host (which may be internal).
 */
export type OutboundErrorKind = 'refused' | 'timeout' | 'dns' | 'connect' | 'reset' | 'too_large' | 'protocol';

export class OutboundError extends Error {
  override readonly name = 'OutboundError';
  readonly kind: OutboundErrorKind;

  constructor(kind: OutboundErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

/** `code` of a Node/undici error, looking one `cause` deep (undici wraps some socket errors). */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, cause } = error as { code?: unknown; cause?: unknown };
  if (typeof code === 'string') return code;
  if (typeof cause === 'object' && cause !== null) {
    const inner = (cause as { code?: unknown }).code;
    if (typeof inner === 'string') return inner;
  }
  return undefined;
}
