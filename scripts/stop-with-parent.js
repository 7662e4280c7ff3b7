'use strict';
// Loaded into Node-RED (`node --require`) by scripts/node-red-process.ts. Node-RED's stdin is a
// pipe from the process that started it, which never writes to it: the pipe ends when that
// process ends, however it ends (killed too). Node-RED then stops as on Ctrl-C, instead of
// running on alone and holding its port.
const { setTimeout } = require('node:timers');

let stopping = false;

function stop() {
  if (stopping) return;
  stopping = true;
  process.kill(process.pid, 'SIGINT');
  // Node-RED exits once its flows have stopped; should a flow hang, exit anyway.
  setTimeout(() => process.exit(1), 10_000).unref();
}

process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
