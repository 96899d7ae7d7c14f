import type { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { describeEndpoint } from './redis-endpoint.util';

/**
 * Logs a connection's outages once each way: one line when it goes away (with the first
 * error's reason), one when it is back, each naming the endpoint (no password). Its 'error'
 * listener also keeps ioredis from printing "Unhandled error event" with a stack trace at every
 * reconnection attempt. Returns what removes the listeners.
 */
export function watchConnection(client: Redis | Cluster, logger: Logger, role: string): () => void {
  let down = false;
  let wasReady = false;
  const wentAway = (reason: string) => {
    if (down) {
      return;
    }
    down = true;
    logger.warn(
      authenticationFailure(reason)
        ? `${credentialsRefused(describeEndpoint(client), `${role}: ${reason}`)}; retrying`
        : `${describeEndpoint(client)} is unreachable (${role}: ${reason}); retrying`,
    );
  };
  const onError = (error: Error) => {
    lastErrors.set(client, error.message || error.name);
    wentAway(error.message || error.name);
  };
  const onClose = () => {
    if (wasReady) {
      wentAway('connection closed');
    }
  };
  const onReady = () => {
    lastErrors.delete(client);
    wasReady = true;
    if (!down) {
      return;
    }
    down = false;
    logger.log(`${describeEndpoint(client)} is reachable again (${role})`);
  };
  client.on('error', onError);
  client.on('close', onClose);
  client.on('ready', onReady);
  return () => {
    client.off('error', onError);
    client.off('close', onClose);
    client.off('ready', onReady);
  };
}

/** The last error each watched connection reported, until it is ready again (for /health). */
const lastErrors = new WeakMap<object, string>();

/** The error a watched connection last reported while it has not been ready since, if any. */
export function lastConnectionError(client: Redis | Cluster): string | undefined {
  return lastErrors.get(client);
}

/** What the log and the health check say when Redis refused the credentials. */
export function credentialsRefused(endpoint: string, detail: string): string {
  return `${endpoint} refused this module's credentials (${detail}): check the password (and user) in the redis option`;
}

/** Whether Redis refused the credentials (a wrong password or user, or none where one is needed). */
export function authenticationFailure(reason: string | undefined): boolean {
  return /^(WRONGPASS|NOAUTH|NOPERM)|invalid (username-password pair|password)/i.test(reason ?? '');
}
