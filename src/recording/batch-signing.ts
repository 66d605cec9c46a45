import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
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

/** Loads the configured key, or the one in DATA_DIR, generating it there on first start. */
export async function loadSigningKey(
  configuredFile: string | undefined,
  dataDir: string,
): Promise<SigningKey> {
  const file = configuredFile ?? path.join(dataDir, 'signing-key.pem');
  try {
    return fromPem(await readFile(file, 'utf8'), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || configuredFile) throw err;
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  await mkdir(path.dirname(file), { recursive: true });
  try {
    // 'wx': two processes starting together must end up with the same key, not overwrite each other's.
    await writeFile(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    return new SigningKey(privateKey);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return fromPem(await readFile(file, 'utf8'), file);
  }
}

function fromPem(pem: string, file: string): SigningKey {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${file}: signing key must be Ed25519`);
  return new SigningKey(key);
}
