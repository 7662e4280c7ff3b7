/**
 * The Butler panel, a Node-RED plugin: its editor side (plex-butler-panel.html) adds the sidebar
 * tab. Its routes and feed belong to the server node module (nodes/server/panel-routes.ts), where
 * the deployed servers are; this registration lets Node-RED list the plugin and tell it when the
 * package is removed from the palette, so that no follow of the panel keeps running.
 */
import type { NodeAPI } from 'node-red';
import { closePanelFeed } from './server/panel-routes';

/** The plugin's id and type, the same in the runtime and the editor (the palette matches them). */
const PANEL_PLUGIN = 'plex-butler-panel';

interface PluginApi {
  plugins: { registerPlugin(id: string, definition: Record<string, unknown>): void };
}

export = function registerPanelPlugin(RED: NodeAPI): void {
  (RED as unknown as PluginApi).plugins.registerPlugin(PANEL_PLUGIN, {
    type: PANEL_PLUGIN,
    onremove: closePanelFeed,
  });
};
