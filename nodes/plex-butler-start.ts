import type { NodeAPI } from 'node-red';
import { registerTaskAction } from './task-action';

export = function registerStart(RED: NodeAPI): void {
  registerTaskAction(RED, 'plex-butler-start', 'start');
};
