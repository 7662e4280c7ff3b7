import type { NodeAPI } from 'node-red';
import { registerTaskAction } from './task-action';

export = function registerStop(RED: NodeAPI): void {
  registerTaskAction(RED, 'plex-butler-stop', 'stop');
};
