import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDurationMs } from '../../src/iam/duration.js';

test('refresh interval durations in Go syntax', () => {
  assert.equal(parseDurationMs('5m'), 300_000);
  assert.equal(parseDurationMs('300ms'), 300);
  assert.equal(parseDurationMs('2h45m'), 9_900_000);
  assert.equal(parseDurationMs('1.5h'), 5_400_000);
  assert.equal(parseDurationMs('90'), 90_000);
  assert.equal(parseDurationMs('1m30s'), 90_000);
  for (const bad of ['', '-1.5h', '5 minutes', 'm', '1x']) assert.throws(() => parseDurationMs(bad), /invalid duration/);
});
