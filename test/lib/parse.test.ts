import { strict as assert } from 'node:assert';
import { parseActivities, parseIdentity, parseTaskList, xmlElements } from '../../lib/butler/parse';
import { ButlerError } from '../../lib';

function failsWith(run: () => unknown, code: string, message?: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ButlerError);
    assert.equal(error.code, code);
    if (message) assert.match(error.message, message);
    return true;
  });
}

describe('parsing Plex answers', () => {
  const backup = {
    name: 'BackupDatabase',
    title: 'Backup Database',
    description: 'Create a backup copy',
    enabled: true,
    interval: 3,
    scheduleRandomized: false,
  };

  it('reads the spec shape ButlerTasks.ButlerTask', () => {
    const body = JSON.stringify({ ButlerTasks: { ButlerTask: [backup] } });
    assert.deepEqual(parseTaskList(body, 'application/json'), [backup]);
  });

  it('reads the MediaContainer.ButlerTask shape some clients expect', () => {
    const body = JSON.stringify({ MediaContainer: { size: 1, ButlerTask: [backup] } });
    assert.deepEqual(parseTaskList(body, 'application/json; charset=utf-8'), [backup]);
  });

  it('reads a single task given as an object, and an empty list', () => {
    assert.deepEqual(
      parseTaskList(JSON.stringify({ ButlerTasks: { ButlerTask: backup } }), 'application/json'),
      [backup],
    );
    assert.deepEqual(parseTaskList(JSON.stringify({ ButlerTasks: {} }), 'application/json'), []);
  });

  it('reads XML with 1/0 booleans and escaped attributes', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<ButlerTasks>
<ButlerTask name="BackupDatabase" interval="3" scheduleRandomized="0" enabled="1" title="Backup Database" description="Create a backup copy"/>
<ButlerTask name="CleanOldBundles" interval="7" scheduleRandomized="1" enabled="0" title="Clean &amp; tidy &quot;bundles&quot; &#233;"/>
</ButlerTasks>`;
    assert.deepEqual(parseTaskList(xml, 'application/xml'), [
      backup,
      {
        name: 'CleanOldBundles',
        title: 'Clean & tidy "bundles" é',
        description: '',
        enabled: false,
        interval: 7,
        scheduleRandomized: true,
      },
    ]);
  });

  it('uses the name as title when the official example gives no title', () => {
    const body = JSON.stringify({
      ButlerTasks: {
        ButlerTask: [
          { name: 'AutomaticUpdates', interval: 1, scheduleRandomized: false, enabled: false },
        ],
      },
    });
    const [task] = parseTaskList(body, 'application/json');
    assert.equal(task.title, 'AutomaticUpdates');
    assert.equal(task.description, '');
  });

  it('skips entries without a name instead of inventing one', () => {
    const body = JSON.stringify({
      ButlerTasks: { ButlerTask: [{ interval: 1 }, 'junk', null, backup] },
    });
    assert.deepEqual(parseTaskList(body, 'application/json'), [backup]);
  });

  it('refuses HTML, empty, malformed and foreign bodies as bad-response', () => {
    failsWith(
      () => parseTaskList('<html><body>Login</body></html>', 'text/html'),
      'bad-response',
      /HTML page/,
    );
    failsWith(
      () => parseTaskList('<!DOCTYPE html><html></html>', undefined),
      'bad-response',
      /HTML page/,
    );
    failsWith(() => parseTaskList('', 'application/json'), 'bad-response', /empty/);
    failsWith(
      () => parseTaskList('{"ButlerTasks": {"ButlerTask": [ {"name": }', 'application/json'),
      'bad-response',
      /malformed or truncated/,
    );
    failsWith(
      () => parseTaskList('{"something": "else"}', 'application/json'),
      'bad-response',
      /not with a Butler task list/,
    );
    failsWith(() => parseTaskList('<Other/>', 'application/xml'), 'bad-response');
    failsWith(
      () => parseTaskList('plain words', 'text/plain'),
      'bad-response',
      /neither JSON nor XML/,
    );
  });

  it('reads activities from JSON and XML', () => {
    const json = JSON.stringify({
      MediaContainer: {
        size: 1,
        Activity: [
          {
            uuid: 'u1',
            type: 'provider.epg.load',
            cancellable: false,
            userID: 1,
            title: 'Refreshing EPG',
            subtitle: 'Downloaded 173 airings',
            progress: 7,
            Context: { a: 1 },
          },
        ],
      },
    });
    assert.deepEqual(parseActivities(json, 'application/json'), [
      {
        uuid: 'u1',
        type: 'provider.epg.load',
        title: 'Refreshing EPG',
        subtitle: 'Downloaded 173 airings',
        progress: 7,
        cancellable: false,
        userId: 1,
        context: { a: 1 },
      },
    ]);
    const xml =
      '<MediaContainer size="1"><Activity uuid="u2" type="media.generate.credits" cancellable="1" userID="1" title="Detecting Credits" subtitle="Firefly" progress="-1"/></MediaContainer>';
    const [activity] = parseActivities(xml, 'application/xml');
    assert.equal(activity.progress, -1);
    assert.equal(activity.cancellable, true);
    assert.deepEqual(parseActivities('{"MediaContainer":{"size":0}}', 'application/json'), []);
  });

  it('reads the identity from JSON and XML', () => {
    assert.deepEqual(
      parseIdentity(
        '{"MediaContainer":{"size":0,"claimed":true,"machineIdentifier":"abc","version":"1.40.2"}}',
        'application/json',
      ),
      { claimed: true, machineIdentifier: 'abc', version: '1.40.2' },
    );
    assert.deepEqual(
      parseIdentity(
        '<MediaContainer claimed="0" machineIdentifier="abc" version="1.41"/>',
        'text/xml',
      ),
      {
        claimed: false,
        machineIdentifier: 'abc',
        version: '1.41',
      },
    );
    failsWith(
      () => parseIdentity('{"MediaContainer":{}}', 'application/json'),
      'bad-response',
      /does not look like Plex/,
    );
  });

  it('xmlElements ignores elements whose name only starts the same', () => {
    assert.equal(
      xmlElements(
        '<ButlerTasks><ButlerTask name="A"/><ButlerTaskX name="B"/></ButlerTasks>',
        'ButlerTask',
      ).length,
      1,
    );
  });
});
