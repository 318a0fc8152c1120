/** Whether a URL names this machine (127.0.0.1, localhost, [::1]): a local stand-in, never an Azure service. */
export function isLoopbackUrl(url: string): boolean {
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname.toLowerCase());
  } catch {
    return false;
  }
}
