import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Queryable } from './db.js';
import type { SecretBox } from './secret-box.js';

/**
 * The deployment row: its identity and the secrets every process of it must share, kept in the one
 * place all processes reach (the database), so processes with separate DATA_DIRs agree.
 */
export class Deployment {
  private constructor(
    private readonly db: Queryable,
    readonly id: string,
  ) {}

  static async open(db: Queryable): Promise<Deployment> {
    const [row] = await db.query<{ id: string }>('SELECT id FROM deployment');
    if (!row) throw new Error('the database has no deployment row (migration 6 missing)');
    return new Deployment(db, row.id);
  }

  /**
   * Binds the data to the first SECRET_KEY it was used with; a process with another key stops here
   * instead of failing later on every sealed camera credential.
   */
  async bindSecretKey(key: Buffer): Promise<void> {
    const check = createHmac('sha256', key).update('ess-secret-key-check-v1').digest('hex');
    await this.db.query('UPDATE deployment SET secret_key_check = $1 WHERE secret_key_check IS NULL', [
      check,
    ]);
    const [row] = await this.db.query<{ secret_key_check: string }>(
      'SELECT secret_key_check FROM deployment',
    );
    if (!timingSafeEqual(Buffer.from(row!.secret_key_check), Buffer.from(check)))
      throw new Error(
        'SECRET_KEY differs from the key this deployment sealed its camera credentials with: ' +
          'give every process of the deployment the same SECRET_KEY (or the same DATA_DIR/secret.key)',
      );
  }

  /** The export signing key (PKCS#8 PEM), sealed; made once by whichever process asks first. */
  async signingKey(secrets: SecretBox, generate: () => string): Promise<string> {
    const read = async () =>
      (
        await this.db.query<{ signing_key_sealed: string | null }>(
          'SELECT signing_key_sealed FROM deployment',
        )
      )[0]?.signing_key_sealed ?? null;
    const existing = await read();
    if (existing) return secrets.open(existing);
    await this.db.query('UPDATE deployment SET signing_key_sealed = $1 WHERE signing_key_sealed IS NULL', [
      secrets.seal(generate()),
    ]);
    return secrets.open((await read())!);
  }
}
