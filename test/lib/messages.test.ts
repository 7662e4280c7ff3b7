/**
 * Every word in the user's language: the library's catalog (errors, status words) and each
 * node's catalog exist in en-US and de with the same keys and the same parameters; every key
 * the code refers to is in them; status texts stay short in both languages.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BUTLER_ERROR_CODES,
  ButlerError,
  LIMITS,
  formatMessage,
  interpolate,
  lookup,
  type Catalog,
} from '../../lib';
import { statusFailure } from '../../lib/failures/classify';
import { message } from '../../lib/messages';

const ROOT = join(__dirname, '../..');
const LANGUAGES = ['en-US', 'de'];

function readJson(path: string): Catalog {
  return JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as Catalog;
}

/** Every key of a nested catalog, with its text. */
function entries(catalog: Catalog, prefix = ''): Array<[string, string]> {
  return Object.entries(catalog).flatMap(([key, value]) =>
    typeof value === 'string'
      ? [[`${prefix}${key}`, value] as [string, string]]
      : entries(value, `${prefix}${key}.`),
  );
}

function placeholders(text: string): string[] {
  return [...text.matchAll(/__([A-Za-z0-9]+)__/g)].map((match) => match[1]).sort();
}

const library = Object.fromEntries(
  LANGUAGES.map((lang) => [lang, readJson(`lib/locales/${lang}/messages.json`)]),
);
const NODE_SETS = readdirSync(join(ROOT, 'nodes/locales/en-US'))
  .filter((file) => file.endsWith('.json'))
  .map((file) => file.replace(/\.json$/, ''));

/** The words of a key in a language, as Node-RED's i18n gives them (`__name__` filled in). */
function say(lang: string, key: string, params: Record<string, string | number> = {}): string {
  const text = lookup(library[lang], key);
  assert.ok(text !== undefined, `${lang} has no ${key}`);
  return interpolate(text, params);
}

describe('message catalogs', () => {
  it('en-US and de hold the same keys with the same parameters: the library', () => {
    const english = new Map(entries(library['en-US']));
    const german = new Map(entries(library.de));
    assert.deepEqual([...german.keys()].sort(), [...english.keys()].sort());
    for (const [key, text] of english) {
      assert.deepEqual(placeholders(german.get(key) ?? ''), placeholders(text), key);
    }
  });

  for (const set of NODE_SETS) {
    it(`en-US and de hold the same keys with the same parameters: ${set}`, () => {
      const english = new Map(entries(readJson(`nodes/locales/en-US/${set}.json`)));
      const german = new Map(entries(readJson(`nodes/locales/de/${set}.json`)));
      assert.deepEqual([...german.keys()].sort(), [...english.keys()].sort());
      for (const [key, text] of english) {
        assert.deepEqual(placeholders(german.get(key) ?? ''), placeholders(text), key);
      }
    });
  }

  it('every message key the code names is in the catalog', () => {
    const sources = ['lib', 'nodes']
      .flatMap((dir) =>
        readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
          .filter((file) => file.endsWith('.ts'))
          .map((file) => readFileSync(join(ROOT, dir, file), 'utf8')),
      )
      .join('\n');
    const literal = [...sources.matchAll(/message\(\s*'([a-zA-Z.-]+)'/g)].map((match) => match[1]);
    assert.ok(literal.length > 60, `${literal.length} keys found`);
    // Keys the code builds from a value: one per error code, setting, unit and range kind.
    const built = [
      ...BUTLER_ERROR_CODES.map((code) => `status.${code}`),
      ...Object.values(LIMITS).flatMap((limit) => [
        `setting.${limit.setting}`,
        `unit.${limit.unit}`,
      ]),
      ...['from', 'wholeFrom', 'above', 'wholeAbove'].map((kind) => `range.${kind}`),
      ...[
        'token',
        'clientIdentifier',
        'product',
        'version',
        'platform',
        'device',
        'deviceName',
      ].map((name) => `setting.${name}`),
    ];
    for (const key of [...literal, ...built]) {
      for (const lang of LANGUAGES) assert.ok(lookup(library[lang], key), `${lang}: ${key}`);
    }
  });

  it('every HTTP status is worded from the catalog, nothing left as a key', () => {
    for (const status of [200, 204, 301, 400, 401, 403, 404, 418, 429, 500, 502, 503, 504]) {
      const error = statusFailure(status, message('doing.startTask', { task: 'BackupDatabase' }));
      assert.doesNotMatch(error.message, /\b(errors|doing|hint|where)\.[a-z]/i, error.message);
      const german = formatMessage(error.messageRef, (key, params) => say('de', key, params));
      assert.match(german, /^konnte nicht BackupDatabase starten: /, german);
    }
  });

  it('an error keeps its code and details when worded in another language', () => {
    const error = new ButlerError('rate-limited', message('errors.rateLimited'), {
      status: 429,
      retryable: true,
      retryAfterSeconds: 3,
    });
    const german = error.localized((key, params) => say('de', key, params));
    assert.equal(german.code, 'rate-limited');
    assert.equal(german.status, 429);
    assert.equal(german.retryable, true);
    assert.equal(german.retryAfterSeconds, 3);
    assert.match(german.message, /^Der Server drosselt die Anfragen \(429\)/);
    assert.match(error.message, /^the server is rate-limiting requests \(429\)/);
  });

  describe('status texts stay under about 20 characters', () => {
    /** Values as long as they get in practice; the " HH:MM" clock comes on top. */
    const PARAMS = { count: 22, seconds: 0.5, duration: '59m 59s', reason: '' };
    for (const lang of LANGUAGES) {
      it(`${lang}: the status words of every error code`, () => {
        for (const code of BUTLER_ERROR_CODES) {
          const text = say(lang, `status.${code}`);
          assert.ok(text.length <= 20, `${lang} status.${code}: "${text}" (${text.length})`);
        }
      });

      it(`${lang}: every node's status texts`, () => {
        for (const set of NODE_SETS) {
          const catalog = readJson(`nodes/locales/${lang}/${set}.json`);
          for (const [key, template] of entries(catalog)) {
            if (!key.startsWith(`${set}.status.`)) continue;
            const text = interpolate(template, PARAMS);
            assert.ok(text.length <= 20, `${lang} ${key}: "${text}" (${text.length})`);
          }
        }
      });
    }
  });
});
