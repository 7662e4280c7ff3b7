/**
 * The parsers meet whatever a broken server, a proxy or an attacker on the LAN sends. Each of
 * them either reads the body or throws a ButlerError: never another error type (which would
 * escape as a crash on the notification socket), and never minutes of regular-expression
 * backtracking. 10,000+ generated bodies: JSON and XML, deep nesting, odd entities, huge
 * attributes, cut-off and mutated answers.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ButlerError, normaliseBaseUrl } from '../../lib';
import {
  parseActivities,
  parseActivityNotification,
  parseIdentity,
  parseSettings,
  parseTaskList,
} from '../../lib/butler/parse';
import { prng } from '../support/prng';

const CONTENT_TYPES = [
  'application/json',
  'application/xml',
  'text/xml; charset=utf-8',
  'text/html',
  undefined,
];
const KEYS = [
  'ButlerTasks',
  'ButlerTask',
  'MediaContainer',
  'Activity',
  'NotificationContainer',
  'ActivityNotification',
  'name',
  'title',
  'description',
  'enabled',
  'interval',
  'scheduleRandomized',
  'uuid',
  'type',
  'progress',
  'cancellable',
  'userID',
  'Context',
  'event',
  'machineIdentifier',
  'version',
  'claimed',
  'size',
  'Setting',
  'id',
  'label',
  'summary',
  'default',
  'value',
  'hidden',
  'advanced',
  'group',
  'enumValues',
  'toString',
  'valueOf',
  '__proto__',
  'constructor',
  'hasOwnProperty',
  '',
];
const ENTITIES = [
  '&#99999999;',
  '&#x110000;',
  '&#xD800;',
  '&#0;',
  '&#x0;',
  '&#;',
  '&#x;',
  '&amp',
  '&unknown;',
  '&#1114111;',
  '&#00000000000065;',
  '&#x0000000041;',
  '&#9999999999999999999999;',
  '&lt;&gt;&quot;&apos;&amp;',
  '&&&&;;;;',
];
const ELEMENTS = [
  'ButlerTasks',
  'ButlerTask',
  'MediaContainer',
  'Activity',
  'Setting',
  'ButlerTaskX',
  '',
];

type Random = () => number;

function pick<T>(random: Random, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)];
}

/** Long enough that quadratic backtracking would take seconds, short enough to stay fast. */
const HUGE = 30_000;

function text(random: Random): string {
  const kinds = [
    () => pick(random, KEYS),
    () => pick(random, ENTITIES),
    () => String.fromCharCode(...Array.from({ length: 20 }, () => Math.floor(random() * 0xffff))),
    () => '\u0000\u001f\ud800\udfff',
    () => String(random() * 1e308 * (random() < 0.5 ? -1 : 1)),
    () => '9'.repeat(400),
  ];
  // Now and then a huge run: a name, a value or blanks without end.
  if (random() < 0.03) return pick(random, ['x', ' ', 'a=', '&#1', '"'.padEnd(2)]).repeat(HUGE);
  return pick(random, kinds)();
}

function jsonValue(random: Random, depth: number): unknown {
  const roll = random();
  if (depth > 6 || roll < 0.3) {
    const scalars = [
      () => text(random),
      () => random() * 1e6,
      () => Number.MAX_SAFE_INTEGER * 10,
      () => -0,
      () => random() < 0.5,
      () => null,
    ];
    return pick(random, scalars)();
  }
  if (roll < 0.55) {
    return Array.from({ length: Math.floor(random() * 5) }, () => jsonValue(random, depth + 1));
  }
  const object: Record<string, unknown> = {};
  for (let i = Math.floor(random() * 6); i > 0; i--) {
    object[pick(random, KEYS)] = jsonValue(random, depth + 1);
  }
  return object;
}

/** A JSON body that looks like one of the Plex answers, with any of its values replaced. */
function plexShapedJson(random: Random): string {
  const entry = (): Record<string, unknown> => {
    const fields: Record<string, unknown> = {};
    for (const key of KEYS) if (random() < 0.4) fields[key] = jsonValue(random, 3);
    return fields;
  };
  const list = Array.from({ length: Math.floor(random() * 4) }, entry);
  const shapes = [
    { ButlerTasks: { ButlerTask: random() < 0.5 ? list : entry() } },
    { MediaContainer: { size: list.length, ButlerTask: list, Activity: list, ...entry() } },
    { MediaContainer: { size: list.length, Setting: list } },
    {
      NotificationContainer: {
        type: 'activity',
        ActivityNotification: list.map((item) => ({ event: 'started', Activity: item, ...item })),
      },
    },
  ];
  // JSON.stringify drops a "__proto__" own key set by assignment: write it in by hand too.
  return JSON.stringify(pick(random, shapes)).replace(/^\{/, '{"__proto__":{"polluted":1},');
}

function deepJson(random: Random): string {
  const depth = 1 + Math.floor(random() * 100_000);
  const open = random() < 0.5 ? '[' : '{"ButlerTasks":';
  const close = open === '[' ? ']' : '}';
  const complete = random() < 0.5;
  return open.repeat(depth) + (complete ? '1' + close.repeat(depth) : '');
}

function xmlAttributes(random: Random): string {
  const parts: string[] = [];
  for (let i = Math.floor(random() * 8); i > 0; i--) {
    const name = pick(random, [...KEYS, 'a'.repeat(HUGE), '1bad', 'x:y', '-']);
    const quote = pick(random, ['"', "'", '']);
    const value = [text(random), pick(random, ENTITIES), text(random)].join('');
    const space = random() < 0.02 ? ' '.repeat(HUGE) : pick(random, [' ', '', '\n\t']);
    parts.push(`${space}${name}${space}=${space}${quote}${value}${random() < 0.9 ? quote : ''}`);
  }
  return parts.join(random() < 0.8 ? ' ' : '');
}

function xmlBody(random: Random): string {
  const children: string[] = [];
  for (let i = Math.floor(random() * 5); i > 0; i--) {
    const name = pick(random, ELEMENTS);
    const ending = pick(random, ['/>', '>', ' />', '', '>' + text(random) + `</${name}>`]);
    children.push(`<${name}${random() < 0.9 ? ' ' : ''}${xmlAttributes(random)}${ending}`);
  }
  const root = pick(random, ['ButlerTasks', 'MediaContainer', 'Other']);
  const prolog = random() < 0.5 ? '<?xml version="1.0" encoding="UTF-8"?>\n' : '';
  return `${prolog}<${root} ${xmlAttributes(random)}>\n${children.join('\n')}\n</${root}>`;
}

/** A valid body, cut off or with bytes changed, as a truncated or corrupted answer would be. */
function damaged(random: Random, body: string): string {
  if (random() < 0.5) return body.slice(0, Math.floor(random() * body.length));
  const chars = [...body];
  for (let i = 1 + Math.floor(random() * 5); i > 0 && chars.length > 0; i--) {
    chars[Math.floor(random() * chars.length)] = pick(random, [
      '<',
      '>',
      '"',
      '&',
      '{',
      '}',
      '\u0000',
      ',',
    ]);
  }
  return chars.join('');
}

const VALID_JSON = JSON.stringify({
  ButlerTasks: {
    ButlerTask: [{ name: 'BackupDatabase', interval: 3, enabled: true, title: 'Backup Database' }],
  },
});
const VALID_XML =
  '<MediaContainer size="1" machineIdentifier="abc" version="1.41"><Activity uuid="u1" type="library.refresh.items" title="T&amp;x" progress="5"/></MediaContainer>';

function generate(random: Random, index: number): string {
  switch (index % 6) {
    case 0:
      return JSON.stringify(jsonValue(random, 0));
    case 1:
      return plexShapedJson(random);
    case 2:
      return index % 600 === 2 ? deepJson(random) : plexShapedJson(random);
    case 3:
      return xmlBody(random);
    case 4:
      return damaged(random, random() < 0.5 ? VALID_JSON : VALID_XML);
    default:
      return random() < 0.5 ? xmlBody(random) : text(random);
  }
}

describe('reliability: parser fuzz', function () {
  this.timeout(120_000);

  it('10,000 generated bodies: every parser reads them or throws a ButlerError, nothing else', () => {
    const random = prng(20261201);
    const counts = { bodies: 0, calls: 0, parsed: 0, butlerErrors: 0 };
    const others: string[] = [];
    const parsers: Array<[string, (body: string, type: string | undefined) => unknown]> = [
      ['parseTaskList', parseTaskList],
      ['parseActivities', parseActivities],
      ['parseIdentity', parseIdentity],
      ['parseSettings', parseSettings],
      ['parseActivityNotification', (body) => parseActivityNotification(body)],
    ];
    for (let index = 0; index < 10_000; index++) {
      const body = generate(random, index);
      counts.bodies++;
      const contentType = pick(random, CONTENT_TYPES);
      for (const [name, parse] of parsers) {
        counts.calls++;
        try {
          parse(body, contentType);
          counts.parsed++;
        } catch (error) {
          if (error instanceof ButlerError) counts.butlerErrors++;
          else if (others.length < 5) others.push(`${name} #${index}: ${String(error)}`);
          else others.push('');
        }
      }
    }
    console.log(
      `      parser fuzz: ${counts.bodies} bodies, ${counts.calls} parser calls, ${counts.parsed} read, ${counts.butlerErrors} ButlerErrors, ${others.length} other errors`,
    );
    assert.equal(counts.bodies, 10_000);
    assert.deepEqual(others, [], 'only ButlerErrors');
    assert.ok(counts.parsed > 1000 && counts.butlerErrors > 1000, 'both outcomes were exercised');
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
  });

  it('the known killers: huge entities, toString keys, long attribute runs', () => {
    const bodies = [
      '<ButlerTasks><ButlerTask name="&#99999999;" title="&#x110000;&#xD800;&#0;"/></ButlerTasks>',
      '{"ButlerTasks":{"ButlerTask":[{"name":{"toString":1},"interval":{"valueOf":1}}]}}',
      `<ButlerTasks><ButlerTask ${'a'.repeat(200_000)}`,
      `<ButlerTasks><ButlerTask${' '.repeat(200_000)}`,
      `<MediaContainer machineIdentifier="x"${' n'.repeat(100_000)}/>`,
    ];
    for (const body of bodies) {
      for (const parse of [parseTaskList, parseActivities, parseIdentity]) {
        try {
          parse(body, undefined);
        } catch (error) {
          assert.ok(error instanceof ButlerError, String(error));
        }
      }
    }
    const [task] = parseTaskList(bodies[0], 'application/xml');
    assert.equal(task.name, '\uFFFD', 'a character reference beyond Unicode reads as U+FFFD');
    assert.equal(task.title, '\uFFFD\uFFFD\uFFFD');
  });

  it('a server URL with a long run of slashes: normalised, not a hang (anyone with read access sends it)', function () {
    this.timeout(20_000);
    // /\/+$/ took quadratic time here: 80,000 slashes held the event loop for 10 s, and this
    // URL for about a minute. Run apart, so that a hang is stopped and reported as one.
    const script = [
      `const { normaliseBaseUrl } = require(${JSON.stringify(join(__dirname, '..', '..', 'lib', 'butler', 'client-options.ts'))});`,
      "const path = '/'.repeat(200000) + 'a' + '/'.repeat(200000);",
      "const url = normaliseBaseUrl('http://192.168.1.10:32400' + path);",
      "process.stdout.write(String(url === 'http://192.168.1.10:32400' + '/'.repeat(200000) + 'a'));",
    ].join('\n');
    const run = spawnSync(process.execPath, ['--require', 'tsx/cjs', '--eval', script], {
      cwd: join(__dirname, '..', '..'),
      encoding: 'utf8',
      timeout: 10_000,
    });
    assert.equal(run.signal, null, 'normalising did not finish in 10 s');
    assert.equal(run.stdout, 'true', run.stderr);
    assert.equal(normaliseBaseUrl('http://plex.local:32400///'), 'http://plex.local:32400');
  });
});
