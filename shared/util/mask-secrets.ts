/** What a masked secret reads as. */
export const MASKED_KEY = '***';

/**
 * The query parameters whose values are credentials: `code` (an Azure Functions key) and `sig` (the
 * signature of a storage SAS).
 */
const SECRET_PARAMETER = /([?&](?:code|sig)=)[\w%+/=.~*-]*/gi;

/**
 * Masks the value of every `code=` and `sig=` query parameter in a text: one URL, a table, a log line or a
 * JSON document that contains URLs. A value is what a key or a signature is made of (base64, URL-encoded or
 * not), so the text around it (a quote, a backslash of a JSON escape, a colon) stays whole. The parameter
 * name stays, so a reader still sees that a key was there.
 */
export function maskSecrets(text: string): string {
  return text.replace(SECRET_PARAMETER, `$1${MASKED_KEY}`);
}
