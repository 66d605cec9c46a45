import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** The service's Ed25519 key that signs export manifests. */
export class SigningKey {
  readonly publicKeyPem: string;
  /** SHA-256 of the public key (SPKI DER), to compare keys by eye. */
  readonly fingerprint: string;

  constructor(private readonly privateKey: KeyObject) {
    const pub = createPublicKey(privateKey);
    this.publicKeyPem = pub.export({ type: 'spki', format: 'pem' }).toString();
    this.fingerprint = publicKeyFingerprint(this.publicKeyPem);
  }

  /** Detached signature, base64. */
  sign(data: Buffer): string {
    return sign(null, data, this.privateKey).toString('base64');
  }
}

export function publicKeyFingerprint(pem: string): string {
  const der = createPublicKey(pem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex');
}

export function verifySignature(publicKeyPem: string, data: Buffer, signatureBase64: string): boolean {
  try {
    const key = createPublicKey(publicKeyPem);
    if (key.asymmetricKeyType !== 'ed25519') return false;
    return verify(null, data, key, Buffer.from(signatureBase64.trim(), 'base64'));
  } catch {
    return false;
  }
}

/**
 * The configured key file, else the deployment's key kept sealed in the database (made on first start,
 * from a key an older version left in DATA_DIR if there is one), so every process signs with one key.
 */
export async function loadSigningKey(
  configuredFile: string | undefined,
  shared: { signingKey(generate: () => string): Promise<string> },
  dataDir: string,
): Promise<SigningKey> {
  if (configuredFile) return fromPem(await readFile(configuredFile, 'utf8'), configuredFile);
  const legacy = await readFile(path.join(dataDir, 'signing-key.pem'), 'utf8').catch(() => null);
  const pem = await shared.signingKey(
    () =>
      legacy ?? generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  );
  return fromPem(pem, 'the deployment signing key');
}

function fromPem(pem: string, file: string): SigningKey {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${file}: signing key must be Ed25519`);
  return new SigningKey(key);
}
