/**
 * The two users of the suites that run Node-RED with its real adminAuth: one who may change
 * flows (`*`) and one who may only read, as `startNodeRed({ adminAuth })` takes them.
 */
export const ADMIN = { username: 'admin', password: 'test-Admin-Passw0rd' };
export const READER = {
  username: 'viewer',
  password: 'test-Viewer-Passw0rd',
  permissions: 'read' as const,
};

/** A deployed server config for those suites, its token as a credential. */
export function serverConfig(
  id: string,
  name: string,
  url: string,
  token: string,
): Record<string, unknown> {
  return {
    id,
    type: 'plex-butler-server',
    name,
    url,
    clientId: `${id}-client`,
    verifyTls: true,
    ca: '',
    timeout: 2000,
    retries: 0,
    credentials: { token },
  };
}
