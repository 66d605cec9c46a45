/**
 * Every Redis key, channel and queue prefix of one deployment, built in one place. The namespace is
 * the deployment's identity stored in its database, so two deployments sharing a Redis stay apart
 * even when both databases use the same schema name.
 */
export class RedisKeys {
  private readonly prefix: string;

  constructor(readonly deploymentId: string) {
    this.prefix = `ess:${deploymentId}`;
  }

  /** `ess:<deployment>:<part>:<part>…`; `key('*')` matches every key of the deployment. */
  key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }
}
