/**
 * Candidate object keys for a key delivered in an S3 event. EventBridge documents the raw key, while classic
 * S3 notifications form-URL-encode it (space as "+"); reports about EventBridge conflict. The key exactly as
 * delivered is tried first, then its form-decoded reading, so both encodings reach the right object.
 */
export function candidateKeys(deliveredKey: string): string[] {
  const candidates = [deliveredKey];
  try {
    const decoded = decodeURIComponent(deliveredKey.replace(/\+/g, ' '));
    if (decoded !== deliveredKey) candidates.push(decoded);
  } catch {
    // Not valid percent-encoding, so it can only be the raw key.
  }
  return candidates;
}
