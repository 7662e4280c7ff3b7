/**
 * The Plex Media Server endpoints the simulator answers over HTTP: /identity, the Butler
 * (/butler, /butler/{task}) and /activities, with the bodies the specs give them.
 */
import { documentAnswer, emptyAnswer, notFoundAnswer, type PlannedAnswer } from './answers';
import type { Butler, SimActivity } from './butler';
import type { Route } from './router';
import type { SimTask } from './tasks';

export const SIMULATED_VERSION = '1.41.3.9314-a0bfb8370';

export function identityRoute(machineIdentifier: string): Route {
  return {
    template: '/identity',
    methods: { GET: ({ json }) => identityAnswer(machineIdentifier, json) },
    open: ['GET'],
  };
}

/**
 * `startAllDelay`: for POST /butler, how long a task waits (a randomised task inside the
 * maintenance window), or undefined to start it at once.
 */
export function butlerRoutes(
  butler: Butler,
  startAllDelay: (task: SimTask) => number | undefined = () => undefined,
): Route[] {
  return [
    {
      template: '/butler',
      methods: {
        GET: ({ json }) => tasksAnswer(butler.tasks, json),
        POST: () => {
          butler.startAllEnabled(startAllDelay);
          return emptyAnswer();
        },
        DELETE: () => {
          butler.stopAll();
          return emptyAnswer();
        },
      },
    },
    {
      template: '/butler/{task}',
      methods: {
        POST: ({ params }) => {
          const task = butler.task(params.task);
          if (!task) return notFoundAnswer();
          if (butler.isRunning(task.name)) return emptyAnswer(202);
          butler.start(task);
          return emptyAnswer();
        },
        DELETE: ({ params }) => {
          if (!butler.task(params.task) || !butler.isRunning(params.task)) return notFoundAnswer();
          butler.stop(params.task);
          return emptyAnswer();
        },
      },
    },
    {
      template: '/activities',
      methods: { GET: ({ json }) => activitiesAnswer(butler.activities(), json) },
    },
  ];
}

function tasksAnswer(tasks: readonly SimTask[], json: boolean): PlannedAnswer {
  const items = tasks.map((task) => ({
    name: task.name,
    interval: task.interval,
    scheduleRandomized: task.scheduleRandomized,
    enabled: task.enabled,
    title: task.title,
    description: task.description,
  }));
  return documentAnswer(json, { root: 'ButlerTasks', children: { name: 'ButlerTask', items } });
}

function activitiesAnswer(activities: readonly SimActivity[], json: boolean): PlannedAnswer {
  return documentAnswer(json, {
    root: 'MediaContainer',
    attributes: { size: activities.length },
    children: { name: 'Activity', items: activities },
  });
}

function identityAnswer(machineIdentifier: string, json: boolean): PlannedAnswer {
  return documentAnswer(json, {
    root: 'MediaContainer',
    attributes: { size: 0, claimed: true, machineIdentifier, version: SIMULATED_VERSION },
  });
}
