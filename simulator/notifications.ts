/** The notification WebSocket: which path it is on. */
import type { Route } from './router';

/** Real servers use `websockets`; the specs write `websocket`: both are served. */
export const NOTIFICATIONS_ROUTE: Route = {
  template: '/:/websockets/notifications',
  aliases: ['/:/websocket/notifications'],
  // Only the WebSocket handshake is answered there; plain HTTP gets 404 (401 without a token).
  methods: {},
};
