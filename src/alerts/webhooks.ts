import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-ess-signature';

/** `sha256=<hex HMAC-SHA256 of the exact body bytes>`, as GitHub-style receivers expect. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function verifyBody(secret: string, body: string, signature: string): boolean {
  const expected = Buffer.from(signBody(secret, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** POSTs one signed event; any answer but 2xx (or no answer in time) throws, so the job retries. */
export async function postWebhook(
  url: string,
  secret: string | undefined,
  event: { seq: number; name: string },
  body: string,
  timeoutMs = 5000,
): Promise<number> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-ess-event': event.name,
    'x-ess-seq': String(event.seq),
  };
  if (secret) headers[SIGNATURE_HEADER] = signBody(secret, body);
  const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
  await res.arrayBuffer().catch(() => undefined);
  if (!res.ok) throw new Error(`webhook answered ${res.status}`);
  return res.status;
}
