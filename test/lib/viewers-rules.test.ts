/**
 * The rules of "in use": one table of cases, each the playbacks read now, when each was first
 * seen paused, the options, and the verdict a user would see.
 */
import { strict as assert } from 'node:assert';
import {
  DEFAULT_VIEWER_RULES,
  IGNORE_REASONS,
  isButlerError,
  judgePlaybacks,
  resolveViewerRules,
  type IgnoreReason,
  type Playback,
  type ViewerRuleOptions,
} from '../../lib';
import { ENGLISH, lookup } from '../../lib';
import de from '../../lib/locales/de/messages.json';
import type { Catalog } from '../../lib';

const NOW = Date.parse('2026-01-05T23:00:00.000Z');
const MINUTE = 60_000;

function playback(overrides: Partial<Playback> & Pick<Playback, 'key'>): Playback {
  return {
    kind: 'playback',
    user: 'ann',
    player: 'Living Room TV',
    playerId: 'tv-1',
    title: 'Heat',
    state: 'playing',
    transcode: false,
    location: 'lan',
    ...overrides,
  };
}

const playing = playback({ key: '1' });
const buffering = playback({ key: '2', state: 'buffering', player: 'Phone', playerId: 'ph-2' });
const pausedShort = playback({ key: '3', state: 'paused', player: 'Kitchen', playerId: 'k-3' });
const pausedLong = playback({ key: '4', state: 'paused', player: 'Bedroom', playerId: 'b-4' });
const transcoding = playback({ key: '5', transcode: true, location: 'wan', player: 'Laptop' });
const recording = playback({
  key: 'rec-1',
  kind: 'recording',
  user: '',
  player: '',
  playerId: '',
  title: 'News',
});
const background = playback({
  key: '/transcode/sessions/j',
  kind: 'background',
  user: '',
  player: '',
  playerId: '',
  title: 'Up',
  transcode: true,
  location: undefined,
});

/** First seen paused: 5 minutes ago and 3 hours ago. */
const PAUSED_SINCE = new Map([
  ['3', NOW - 5 * MINUTE],
  ['4', NOW - 180 * MINUTE],
]);

interface Case {
  name: string;
  playbacks: Playback[];
  options?: ViewerRuleOptions;
  pausedSince?: Map<string, number>;
  inUse: boolean;
  /** Keys that count, in order. */
  counted: string[];
  /** Keys that do not, with their reasons. */
  ignored?: Array<[string, IgnoreReason]>;
}

const CASES: Case[] = [
  { name: 'nobody watches', playbacks: [], inUse: false, counted: [] },
  { name: 'playing counts', playbacks: [playing], inUse: true, counted: ['1'] },
  { name: 'buffering counts', playbacks: [buffering], inUse: true, counted: ['2'] },
  {
    name: 'paused within the limit counts',
    playbacks: [pausedShort],
    inUse: true,
    counted: ['3'],
  },
  {
    name: 'paused beyond the limit (30 min) does not',
    playbacks: [pausedLong],
    inUse: false,
    counted: [],
    ignored: [['4', 'paused-too-long']],
  },
  {
    name: 'exactly at the limit no longer counts',
    playbacks: [pausedShort],
    options: { pausedLimitMinutes: 5 },
    inUse: false,
    counted: [],
    ignored: [['3', 'paused-too-long']],
  },
  {
    name: 'a longer limit keeps a long pause counting',
    playbacks: [pausedLong],
    options: { pausedLimitMinutes: 240 },
    inUse: true,
    counted: ['4'],
  },
  {
    name: 'a limit of 0: paused never counts, playing still does',
    playbacks: [pausedShort, playing],
    options: { pausedLimitMinutes: 0 },
    inUse: true,
    counted: ['1'],
    ignored: [['3', 'paused-too-long']],
  },
  {
    name: 'a pause first seen now counts (no history yet)',
    playbacks: [pausedLong],
    pausedSince: new Map(),
    inUse: true,
    counted: ['4'],
  },
  {
    name: 'recordings count by default',
    playbacks: [recording],
    inUse: true,
    counted: ['rec-1'],
  },
  {
    name: 'recordings can be left out',
    playbacks: [recording],
    options: { countRecordings: false },
    inUse: false,
    counted: [],
    ignored: [['rec-1', 'recording']],
  },
  {
    name: 'background transcodes do not count by default',
    playbacks: [background],
    inUse: false,
    counted: [],
    ignored: [['/transcode/sessions/j', 'background']],
  },
  {
    name: 'background transcodes can count',
    playbacks: [background],
    options: { countBackground: true },
    inUse: true,
    counted: ['/transcode/sessions/j'],
  },
  {
    name: 'only transcodes: a direct play does not count, a transcode does',
    playbacks: [playing, transcoding],
    options: { onlyTranscodes: true },
    inUse: true,
    counted: ['5'],
    ignored: [['1', 'not-transcoding']],
  },
  {
    name: 'only transcodes does not drop a recording',
    playbacks: [recording],
    options: { onlyTranscodes: true },
    inUse: true,
    counted: ['rec-1'],
  },
  {
    name: 'an ignored player by name, in any case',
    playbacks: [playing, buffering],
    options: { ignorePlayers: ['  living room tv '] },
    inUse: true,
    counted: ['2'],
    ignored: [['1', 'ignored-player']],
  },
  {
    name: 'an ignored player by machine identifier',
    playbacks: [buffering],
    options: { ignorePlayers: ['ph-2'] },
    inUse: false,
    counted: [],
    ignored: [['2', 'ignored-player']],
  },
  {
    name: 'a machine identifier is matched exactly',
    playbacks: [buffering],
    options: { ignorePlayers: ['PH-2'] },
    inUse: true,
    counted: ['2'],
  },
  {
    name: 'an empty name ignores nothing',
    playbacks: [recording],
    options: { ignorePlayers: [''] },
    inUse: true,
    counted: ['rec-1'],
  },
  {
    name: 'the first reason wins: an ignored player paused too long is an ignored player',
    playbacks: [pausedLong],
    options: { ignorePlayers: ['Bedroom'] },
    inUse: false,
    counted: [],
    ignored: [['4', 'ignored-player']],
  },
  {
    name: 'a minimum of 2: one playback is not enough',
    playbacks: [playing, pausedLong],
    options: { minimumPlaybacks: 2 },
    inUse: false,
    counted: ['1'],
    ignored: [['4', 'paused-too-long']],
  },
  {
    name: 'a minimum of 2: two playbacks are',
    playbacks: [playing, buffering, background],
    options: { minimumPlaybacks: 2 },
    inUse: true,
    counted: ['1', '2'],
    ignored: [['/transcode/sessions/j', 'background']],
  },
];

describe('viewers: the rules of "in use"', function () {
  for (const example of CASES) {
    it(example.name, function () {
      const rules = resolveViewerRules(example.options);
      const verdict = judgePlaybacks(
        example.playbacks,
        example.pausedSince ?? PAUSED_SINCE,
        NOW,
        rules,
      );
      const keyOf = (session: { title: string; player: string }): string =>
        example.playbacks.find((p) => p.title === session.title && p.player === session.player)
          ?.key ?? '?';
      assert.equal(verdict.inUse, example.inUse);
      assert.deepEqual(verdict.sessions.map(keyOf), example.counted);
      assert.deepEqual(
        verdict.ignored.map((session) => [keyOf(session), session.reason]),
        example.ignored ?? [],
      );
    });
  }

  it('shows each session as a person reads it, paused ones with since when', function () {
    const verdict = judgePlaybacks([transcoding, pausedShort, pausedLong], PAUSED_SINCE, NOW);
    assert.deepEqual(verdict, {
      inUse: true,
      sessions: [
        {
          kind: 'playback',
          user: 'ann',
          player: 'Laptop',
          title: 'Heat',
          state: 'playing',
          transcode: true,
          location: 'wan',
        },
        {
          kind: 'playback',
          user: 'ann',
          player: 'Kitchen',
          title: 'Heat',
          state: 'paused',
          transcode: false,
          location: 'lan',
          pausedSince: '2026-01-05T22:55:00.000Z',
        },
      ],
      ignored: [
        {
          kind: 'playback',
          user: 'ann',
          player: 'Bedroom',
          title: 'Heat',
          state: 'paused',
          transcode: false,
          location: 'lan',
          pausedSince: '2026-01-05T20:00:00.000Z',
          reason: 'paused-too-long',
        },
      ],
    });
  });

  it('has the defaults of the issue', function () {
    assert.deepEqual(resolveViewerRules(), DEFAULT_VIEWER_RULES);
    assert.deepEqual(
      { ...DEFAULT_VIEWER_RULES },
      {
        pausedLimitMinutes: 30,
        countRecordings: true,
        countBackground: false,
        onlyTranscodes: false,
        ignorePlayers: [],
        minimumPlaybacks: 1,
      },
    );
    assert.deepEqual(IGNORE_REASONS, [
      'ignored-player',
      'recording',
      'background',
      'not-transcoding',
      'paused-too-long',
    ]);
  });

  const REFUSED: Array<[string, ViewerRuleOptions, RegExp]> = [
    [
      'a negative paused limit',
      { pausedLimitMinutes: -1 },
      /^the paused limit must be a number of minutes from 0 to 10080 \(got -1\)$/,
    ],
    ['a paused limit that is not a number', { pausedLimitMinutes: NaN }, /paused limit.*got NaN/],
    [
      'a paused limit as text',
      { pausedLimitMinutes: '30' as unknown as number },
      /paused limit.*got "30"/,
    ],
    [
      'a minimum of 0',
      { minimumPlaybacks: 0 },
      /^the minimum number of playbacks must be a whole number of playbacks above 0, up to 1000 \(got 0\)$/,
    ],
    ['a minimum of 1.5', { minimumPlaybacks: 1.5 }, /minimum number of playbacks.*got 1\.5/],
    [
      'a switch that is not true or false',
      { countRecordings: 'yes' as unknown as boolean },
      /^"Count recordings" must be true or false \(got "yes"\)$/,
    ],
    [
      'players that are not a list',
      { ignorePlayers: 'TV' as unknown as string[] },
      /^"Ignore players" must be a list of player names or machine identifiers \(got "TV"\)$/,
    ],
    [
      'a player that is not text',
      { ignorePlayers: ['TV', 3] as unknown as string[] },
      /"Ignore players" must be a list.*\(got an array\)/,
    ],
  ];
  for (const [name, options, pattern] of REFUSED) {
    it(`refuses ${name} with invalid-config, naming what is allowed`, function () {
      assert.throws(
        () => resolveViewerRules(options),
        (error: unknown) => {
          assert.ok(isButlerError(error));
          assert.equal(error.code, 'invalid-config');
          assert.match(error.message, pattern);
          return true;
        },
      );
    });
  }

  it('words every message of the viewers in en-US and de', function () {
    const keys = [
      'errors.notSessionList',
      'errors.notBoolean',
      'errors.notPlayerList',
      'doing.listSessions',
      'doing.listLiveSessions',
      'doing.listBackgroundSessions',
      'unit.playbacks',
      ...[
        'pausedLimit',
        'minimumPlaybacks',
        'countRecordings',
        'countBackground',
        'onlyTranscodes',
        'ignorePlayers',
      ].map((setting) => `setting.${setting}`),
    ];
    for (const key of keys) {
      assert.ok(lookup(ENGLISH as Catalog, key), `en-US: ${key}`);
      assert.ok(lookup(de as Catalog, key), `de: ${key}`);
    }
  });
});
