/** What a masked key reads as. */
export const MASKED_KEY = '***';

/**
 * Masks the value of every `code=` query parameter (an Azure Functions key) in a text: one URL, a table or a
 * JSON document that contains URLs. The parameter name stays, so a reader still sees that a key was there.
 */
export function maskFunctionKeys(text: string): string {
  return text.replace(/([?&]code=)[^&#\s"'<>]*/gi, `$1${MASKED_KEY}`);
}
