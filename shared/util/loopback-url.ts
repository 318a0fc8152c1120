/** Whether a URL names this machine (127.0.0.1, localhost, [::1]): a local stand-in, never an Azure service. */
export function isLoopbackUrl(url: string): boolean {
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname.toLowerCase());
  } catch {
    return false;
  }
}

/** Whether a URL is plain `http://` to this machine (isLoopbackUrl): the one place a client may send without TLS. */
export function isLoopbackHttpUrl(url: string): boolean {
  return /^http:\/\//i.test(url) && isLoopbackUrl(url);
}
