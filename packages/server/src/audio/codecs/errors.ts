/** The bytes are not audio this module can read; the message says why. */
export class AudioFormatError extends Error {
  override readonly name = 'AudioFormatError';
}
