/**
 * Which token may go to which address: each rule of nodes/server/token-policy.ts once, as a
 * table of cases. The routes and the server node that use these rules are tested through the
 * admin API (admin.test.ts, sign-in.test.ts, permissions.test.ts); here is the rule itself.
 */
import * as assert from 'node:assert/strict';
import type { PlexServerResource } from '../../lib';
import {
  SAVED_PASSWORD,
  deployedAccepts,
  expandEnv,
  lanAddressMayGetToken,
  meansSavedToken,
  readerMayUse,
  relocationConnections,
  savedTokenFor,
  serverToKeep,
  serverTokenFor,
  tokenBinding,
  tokenBoundElsewhere,
  tokenFieldAfterPick,
  type ChosenServer,
  type SavedTokenRequest,
} from '../../nodes/server/token-policy';

const HOME = 'http://192.168.1.10:32400';
const ELSEWHERE = 'http://203.0.113.9:32400';
const SECURE = 'https://192-168-1-10.0123456789abcdef0123456789abcdef.plex.direct:32400';
const SAVED = 'saved-token';
const CHOSEN: ChosenServer = { url: HOME, token: 'server-token', machineIdentifier: 'home' };

const server: PlexServerResource = {
  name: 'Home',
  machineIdentifier: 'home',
  owned: true,
  online: true,
  accessToken: 'access-token',
  httpsRequired: false,
  connections: [
    {
      protocol: 'http',
      address: '192.168.1.10',
      port: 32400,
      uri: HOME,
      local: true,
      relay: false,
    },
    {
      protocol: 'https',
      address: '192.168.1.10',
      port: 32400,
      uri: SECURE,
      local: true,
      relay: false,
    },
  ],
} as PlexServerResource;

interface Row<T> {
  rule: string;
  /** Runs the rule; its answer is compared with `expected`. */
  run: () => T;
  expected: T;
}

function request(overrides: Partial<SavedTokenRequest>): SavedTokenRequest {
  return { url: HOME, saved: { token: SAVED }, deployed: false, ...overrides };
}

const ROWS: Array<Row<unknown>> = [
  // The sentinel and the environment.
  { rule: 'an empty field means the saved token', run: () => meansSavedToken(''), expected: true },
  {
    rule: "Node-RED's sentinel means the saved token",
    run: () => meansSavedToken(SAVED_PASSWORD),
    expected: true,
  },
  { rule: 'anything typed is the typed token', run: () => meansSavedToken(' x'), expected: false },
  {
    rule: '${NAME} is the runtime environment variable',
    run: () => expandEnv('${PLEX}', { PLEX: 'from-env' }),
    expected: 'from-env',
  },
  {
    rule: 'only a whole ${NAME} is expanded',
    run: () => expandEnv('a${PLEX}', { PLEX: 'x' }),
    expected: 'a${PLEX}',
  },
  // Bindings.
  {
    rule: 'a chosen token is bound to the address it was chosen for',
    run: () =>
      tokenBoundElsewhere({ token: SAVED, tokenFor: tokenBinding(HOME, SAVED) }, ELSEWHERE),
    expected: HOME,
  },
  {
    rule: 'at that address it is not bound elsewhere',
    run: () => tokenBoundElsewhere({ token: SAVED, tokenFor: tokenBinding(HOME, SAVED) }, HOME),
    expected: undefined,
  },
  {
    rule: 'a token typed later is not bound by an older binding',
    run: () =>
      tokenBoundElsewhere({ token: 'typed', tokenFor: tokenBinding(HOME, SAVED) }, ELSEWHERE),
    expected: undefined,
  },
  // The deployed node.
  {
    rule: 'the deployed node lets its token go to its configured address',
    run: () => deployedAccepts({ token: SAVED, configuredUrl: HOME }, HOME, HOME, SAVED),
    expected: true,
  },
  {
    rule: 'and to the address it moved to',
    run: () => deployedAccepts({ token: SAVED, configuredUrl: HOME }, ELSEWHERE, ELSEWHERE, SAVED),
    expected: true,
  },
  {
    rule: 'but not to any other address',
    run: () => deployedAccepts({ token: SAVED, configuredUrl: HOME }, HOME, ELSEWHERE, SAVED),
    expected: false,
  },
  {
    rule: 'nor once the saved token is no longer the deployed one',
    run: () => deployedAccepts({ token: SAVED, configuredUrl: HOME }, HOME, HOME, 'other'),
    expected: false,
  },
  {
    rule: 'nor when its token is bound to another address',
    run: () =>
      deployedAccepts(
        { token: SAVED, configuredUrl: HOME, boundElsewhere: ELSEWHERE },
        HOME,
        HOME,
        SAVED,
      ),
    expected: false,
  },
  // An editor request for the saved token.
  {
    rule: "the dialog's chosen server gets its own token",
    run: () => savedTokenFor(request({ chosen: CHOSEN })),
    expected: { token: 'server-token' },
  },
  {
    rule: 'no saved token, nothing chosen, kept or deployed: none to send',
    run: () => savedTokenFor(request({ saved: {} })),
    expected: { refused: 'no-token' },
  },
  {
    rule: 'a config neither deployed nor kept has no usable saved token',
    run: () => savedTokenFor(request({})),
    expected: { refused: 'no-token' },
  },
  {
    rule: 'the server kept by Done gets the saved token while it is still its',
    run: () => savedTokenFor(request({ kept: { ...CHOSEN, token: SAVED } })),
    expected: { token: SAVED },
  },
  {
    rule: 'the kept server does not lend it to another address',
    run: () => savedTokenFor(request({ url: ELSEWHERE, kept: { ...CHOSEN, token: SAVED } })),
    expected: { refused: 'address-differs' },
  },
  {
    rule: 'the deployed address gets it when the deployed node accepts',
    run: () => savedTokenFor(request({ deployed: true, deployedAccepts: (url) => url === HOME })),
    expected: { token: SAVED },
  },
  {
    rule: 'an address typed into the dialog does not',
    run: () =>
      savedTokenFor(
        request({ url: ELSEWHERE, deployed: true, deployedAccepts: (url) => url === HOME }),
      ),
    expected: { refused: 'address-differs' },
  },
  // Choosing a server.
  {
    rule: "the owner's server takes the account's token",
    run: () => serverTokenFor({ owned: true, accessToken: 'access' }, 'account'),
    expected: 'account',
  },
  {
    rule: "a shared server takes its own token, never the account's",
    run: () => serverTokenFor({ owned: false, accessToken: 'access' }, 'account'),
    expected: 'access',
  },
  {
    rule: 'a shared server without a token of its own gets none',
    run: () => serverTokenFor({ owned: false, accessToken: '' }, 'account'),
    expected: undefined,
  },
  {
    rule: 'a LAN address plex.tv lists for the server may get its token',
    run: () => lanAddressMayGetToken(server, HOME),
    expected: true,
  },
  {
    rule: 'a LAN host that only claims the identifier may not',
    run: () => lanAddressMayGetToken(server, 'http://192.168.1.66:32400'),
    expected: false,
  },
  {
    rule: 'a LAN server of the account: the token field holds the chosen token',
    run: () => tokenFieldAfterPick(true),
    expected: 'chosen',
  },
  {
    rule: 'a LAN server of no account: the token field is emptied',
    run: () => tokenFieldAfterPick(false),
    expected: 'cleared',
  },
  // Done.
  {
    rule: 'Done keeps the chosen token for the chosen address, field left saved',
    run: () => serverToKeep(CHOSEN, true, HOME),
    expected: CHOSEN,
  },
  {
    rule: 'not when a token was typed instead',
    run: () => serverToKeep(CHOSEN, false, HOME),
    expected: undefined,
  },
  {
    rule: 'not when the address changed after the choice',
    run: () => serverToKeep(CHOSEN, true, ELSEWHERE),
    expected: undefined,
  },
  // Readers.
  {
    rule: "a reader may use the deployed server's token at its saved URL",
    run: () =>
      readerMayUse({ url: '${PLEX_URL}', token: '' }, { savedUrl: '${PLEX_URL}', baseUrl: HOME }),
    expected: true,
  },
  {
    rule: 'or at its address, normalised',
    run: () => readerMayUse({ url: `${HOME}/`, token: SAVED_PASSWORD }, { baseUrl: HOME }),
    expected: true,
  },
  {
    rule: 'a reader sends nothing typed',
    run: () => readerMayUse({ url: HOME, token: 'typed' }, { baseUrl: HOME }),
    expected: false,
  },
  {
    rule: "a reader's ${NAME} is never expanded",
    run: () => readerMayUse({ url: '${OTHER}', token: '' }, { savedUrl: HOME, baseUrl: HOME }),
    expected: false,
  },
  {
    rule: 'a reader reaches no other address',
    run: () => readerMayUse({ url: ELSEWHERE, token: '' }, { baseUrl: HOME }),
    expected: false,
  },
  {
    rule: 'a reader of a config that is not deployed gets nothing',
    run: () => readerMayUse({ url: HOME, token: '' }, undefined),
    expected: false,
  },
  // A move.
  {
    rule: 'a server reached over https is looked for over https only',
    run: () => relocationConnections(server, SECURE).map(({ protocol }) => protocol),
    expected: ['https'],
  },
  {
    rule: 'one reached over http may be found at either',
    run: () => relocationConnections(server, HOME).map(({ protocol }) => protocol),
    expected: ['http', 'https'],
  },
];

describe('token policy: which token may go to which address', () => {
  for (const row of ROWS) {
    it(row.rule, () => assert.deepEqual(row.run(), row.expected));
  }
});
