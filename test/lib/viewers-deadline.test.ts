/**
 * The deadline of a held message, as the "when idle" node reads it from its own fields and from
 * msg.deadline: when it comes, and the words of a value that is not allowed.
 */
import { strict as assert } from 'node:assert';
import {
  configuredDeadline,
  deadlineAt,
  isButlerError,
  messageDeadline,
  nextTimeOfDay,
} from '../../lib';

/** A local date and time (the deadline follows the clock of the machine). */
const local = (day: number, hours: number, minutes = 0): number =>
  new Date(2026, 0, day, hours, minutes, 0, 0).getTime();

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(isButlerError(error));
    assert.equal(error.code, 'invalid-config');
    return error.message;
  }
  assert.fail('no error');
}

describe('when idle: deadlines', () => {
  it('a time of day is the next one to come: later today, or tomorrow once passed', () => {
    assert.equal(nextTimeOfDay(local(5, 2), 5, 0), local(5, 5));
    assert.equal(nextTimeOfDay(local(5, 5, 30), 5, 0), local(6, 5));
    assert.equal(nextTimeOfDay(local(5, 5), 5, 0), local(6, 5), 'now is not later');
    assert.equal(nextTimeOfDay(local(5, 23, 59), 0, 0), local(6, 0));
    assert.equal(
      deadlineAt({ hours: 5, minutes: 0, clock: true }, local(5, 2)) - local(5, 2),
      3 * 3_600_000,
    );
  });

  it('minutes count from when the message came', () => {
    assert.equal(deadlineAt({ minutes: 90 }, local(5, 2)), local(5, 3, 30));
    assert.equal(deadlineAt({ minutes: 0.5 }, 1000), 31_000);
  });

  it('msg.deadline takes minutes (a number or digits) and "HH:MM"; nothing set is undefined', () => {
    assert.deepEqual(messageDeadline(90), { minutes: 90 });
    assert.deepEqual(messageDeadline(' 45 '), { minutes: 45 });
    assert.deepEqual(messageDeadline('2.5'), { minutes: 2.5 });
    assert.deepEqual(messageDeadline('05:00'), { hours: 5, minutes: 0, clock: true });
    assert.deepEqual(messageDeadline('5:07'), { hours: 5, minutes: 7, clock: true });
    assert.deepEqual(messageDeadline('23:59'), { hours: 23, minutes: 59, clock: true });
    assert.deepEqual(messageDeadline(10_080), { minutes: 10_080 });
    for (const nothing of [undefined, null, '']) assert.equal(messageDeadline(nothing), undefined);
  });

  it('msg.deadline refuses everything else, naming both forms and the value', () => {
    const words = (shown: string): string =>
      `msg.deadline must be a number of minutes above 0, up to 10080, or a time of day such as "05:00" (HH:MM, 00:00 to 23:59) (got ${shown})`;
    for (const [value, shown] of [
      [0, '0'],
      [-1, '-1'],
      [10_080.5, '10080.5'],
      [Infinity, 'Infinity'],
      ['24:00', '"24:00"'],
      ['05:60', '"05:60"'],
      ['5', null],
      ['-5', '"-5"'],
      ['1e3', '"1e3"'],
      ['05:00 ', null],
      ['tomorrow', '"tomorrow"'],
      [false, 'a boolean'],
      [new Date(0), 'a object'],
    ] as const) {
      if (shown === null) {
        // Accepted: digits, and a time with blanks around it.
        assert.ok(messageDeadline(value));
        continue;
      }
      assert.equal(
        refusal(() => messageDeadline(value)),
        words(shown),
      );
    }
    assert.match(
      refusal(() => messageDeadline('x'.repeat(100))),
      /\(got "x{40}…"\)$/,
    );
  });

  it("the node's own deadline: minutes in range (empty: 60), or a time of day", () => {
    assert.deepEqual(configuredDeadline('minutes', '', ''), { minutes: 60 });
    assert.deepEqual(configuredDeadline('minutes', '120', ''), { minutes: 120 });
    assert.deepEqual(configuredDeadline(undefined, 30, ''), { minutes: 30 });
    assert.deepEqual(configuredDeadline('time', 60, '05:00'), {
      hours: 5,
      minutes: 0,
      clock: true,
    });
    assert.equal(
      refusal(() => configuredDeadline('minutes', 'soon', '')),
      '"Deadline" must be a number of minutes above 0, up to 10080 (got "soon")',
    );
    assert.equal(
      refusal(() => configuredDeadline('time', 60, '')),
      '"Deadline" (time of day) must be a time of day such as "05:00" (HH:MM, 00:00 to 23:59) (got "")',
    );
  });
});
