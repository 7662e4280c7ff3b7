import http from 'node:http';
import type { PlexSimulator } from '../../simulator';

/**
 * What a second Plex client would do to set the server up for a test: a one-shot request on a
 * connection of its own that closes afterwards, so it never counts as one of ours.
 */
export function plexRequest(sim: PlexSimulator, method: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${sim.url}${path}`,
      {
        method,
        agent: false,
        headers: {
          'X-Plex-Token': sim.token,
          'X-Plex-Client-Identifier': 'test-setup',
          Accept: 'application/json',
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end();
  });
}
