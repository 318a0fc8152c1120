/**
 * Queue message text as an Azure Functions queue trigger reads it with no setting (`messageEncoding:
 * base64`): base64 of the UTF-8 JSON. Every queue the app writes uses it.
 */
export function encodeJsonMessage(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
}

export function decodeJsonMessage<T = unknown>(text: string): T {
  return JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as T;
}
