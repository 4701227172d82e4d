import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createContext, evaluatePolicies, parsePolicy, type ContextInput } from '../../src/policy/index.js';

/** Does a one-statement Allow with this Condition allow s3:GetObject on b/k in ctx? */
function holds(condition: Record<string, unknown>, ctx: ContextInput, version = '2012-10-17'): boolean {
  const p = parsePolicy({ Version: version, Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*', Condition: condition }] }, { name: 't' });
  return evaluatePolicies([p], { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', context: createContext(ctx) }).decision === 'Allow';
}

type Row = [name: string, condition: Record<string, unknown>, ctx: ContextInput, expected: boolean];

const rows: Row[] = [
  // String
  ['StringEquals match', { StringEquals: { 'aws:username': 'tom' } }, { 'aws:username': 'tom' }, true],
  ['StringEquals is case-sensitive', { StringEquals: { 'aws:username': 'Tom' } }, { 'aws:username': 'tom' }, false],
  ['StringEquals any of the values', { StringEquals: { 'aws:username': ['ann', 'tom'] } }, { 'aws:username': 'tom' }, true],
  ['StringEquals missing key', { StringEquals: { 'aws:username': 'tom' } }, {}, false],
  ['StringEquals key name case-insensitive', { StringEquals: { 'AWS:UserName': 'tom' } }, { 'aws:username': 'tom' }, true],
  ['StringEquals does not treat * as wildcard', { StringEquals: { 'aws:username': 't*' } }, { 'aws:username': 'tom' }, false],
  ['StringNotEquals differs', { StringNotEquals: { 'aws:username': 'ann' } }, { 'aws:username': 'tom' }, true],
  ['StringNotEquals equal', { StringNotEquals: { 'aws:username': ['ann', 'tom'] } }, { 'aws:username': 'tom' }, false],
  ['StringNotEquals missing key is true', { StringNotEquals: { 'aws:username': 'tom' } }, {}, true],
  ['StringEqualsIgnoreCase', { StringEqualsIgnoreCase: { 'aws:username': 'TOM' } }, { 'aws:username': 'tOm' }, true],
  ['StringNotEqualsIgnoreCase equal', { StringNotEqualsIgnoreCase: { 'aws:username': 'TOM' } }, { 'aws:username': 'tom' }, false],
  ['StringNotEqualsIgnoreCase differs', { StringNotEqualsIgnoreCase: { 'aws:username': 'ANN' } }, { 'aws:username': 'tom' }, true],
  ['StringLike *', { StringLike: { 's3:prefix': 'home/*' } }, { 's3:prefix': 'home/tom/x' }, true],
  ['StringLike ?', { StringLike: { 's3:prefix': 'h?me' } }, { 's3:prefix': 'home' }, true],
  ['StringLike ? is exactly one', { StringLike: { 's3:prefix': 'h?me' } }, { 's3:prefix': 'hoome' }, false],
  ['StringLike is case-sensitive', { StringLike: { 's3:prefix': 'Home/*' } }, { 's3:prefix': 'home/x' }, false],
  ['StringLike empty string value', { StringLike: { 's3:prefix': ['', 'home/'] } }, { 's3:prefix': '' }, true],
  ['StringNotLike', { StringNotLike: { 's3:prefix': 'secret/*' } }, { 's3:prefix': 'public/a' }, true],
  ['StringNotLike matching', { StringNotLike: { 's3:prefix': 'secret/*' } }, { 's3:prefix': 'secret/a' }, false],
  ['StringNotLike missing key is true', { StringNotLike: { 's3:prefix': 'secret/*' } }, {}, true],
  // Numeric
  ['NumericEquals', { NumericEquals: { 's3:max-keys': '10' } }, { 's3:max-keys': '10' }, true],
  ['NumericEquals number literal', { NumericEquals: { 's3:max-keys': 10 } }, { 's3:max-keys': '10.0' }, true],
  ['NumericNotEquals', { NumericNotEquals: { 's3:max-keys': '10' } }, { 's3:max-keys': '11' }, true],
  ['NumericNotEquals missing is true', { NumericNotEquals: { 's3:max-keys': '10' } }, {}, true],
  ['NumericLessThan', { NumericLessThan: { 's3:max-keys': '10' } }, { 's3:max-keys': '9' }, true],
  ['NumericLessThan equal', { NumericLessThan: { 's3:max-keys': '10' } }, { 's3:max-keys': '10' }, false],
  ['NumericLessThanEquals', { NumericLessThanEquals: { 's3:max-keys': '10' } }, { 's3:max-keys': '10' }, true],
  ['NumericGreaterThan', { NumericGreaterThan: { 's3:max-keys': '10' } }, { 's3:max-keys': '11' }, true],
  ['NumericGreaterThan not', { NumericGreaterThan: { 's3:max-keys': '10' } }, { 's3:max-keys': '10' }, false],
  ['NumericGreaterThanEquals', { NumericGreaterThanEquals: { 's3:max-keys': '10' } }, { 's3:max-keys': '10' }, true],
  ['Numeric non-number context never matches', { NumericLessThan: { 's3:max-keys': '10' } }, { 's3:max-keys': 'abc' }, false],
  ['Numeric missing key', { NumericLessThan: { 's3:max-keys': '10' } }, {}, false],
  // Date
  ['DateLessThan ISO', { DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } }, { 'aws:currenttime': '2025-06-01T12:00:00Z' }, true],
  ['DateLessThan past', { DateLessThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }, { 'aws:currenttime': '2025-06-01T12:00:00Z' }, false],
  ['DateGreaterThan', { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01' } }, { 'aws:currenttime': '2025-06-01T12:00:00Z' }, true],
  ['DateEquals', { DateEquals: { 'aws:CurrentTime': '2025-06-01T12:00:00Z' } }, { 'aws:currenttime': '2025-06-01T12:00:00.000Z' }, true],
  ['DateNotEquals', { DateNotEquals: { 'aws:CurrentTime': '2025-06-01T12:00:00Z' } }, { 'aws:currenttime': '2025-06-01T12:00:01Z' }, true],
  ['DateLessThanEquals', { DateLessThanEquals: { 'aws:CurrentTime': '2025-06-01T12:00:00Z' } }, { 'aws:currenttime': '2025-06-01T12:00:00Z' }, true],
  ['DateGreaterThanEquals', { DateGreaterThanEquals: { 'aws:CurrentTime': '2025-06-01T12:00:01Z' } }, { 'aws:currenttime': '2025-06-01T12:00:00Z' }, false],
  ['Date epoch seconds policy value vs EpochTime', { DateGreaterThan: { 'aws:EpochTime': '1700000000' } }, { 'aws:epochtime': '1750000000' }, true],
  ['Date epoch seconds against ISO context', { DateLessThan: { 'aws:CurrentTime': '1893456000' } }, { 'aws:currenttime': '2025-01-01T00:00:00Z' }, true],
  // Bool
  ['Bool true', { Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:securetransport': 'true' }, true],
  ['Bool JSON boolean', { Bool: { 'aws:SecureTransport': false } }, { 'aws:securetransport': 'false' }, true],
  ['Bool mismatch', { Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:securetransport': 'false' }, false],
  ['Bool case-insensitive', { Bool: { 'aws:SecureTransport': 'TRUE' } }, { 'aws:securetransport': 'True' }, true],
  ['Bool missing', { Bool: { 'aws:SecureTransport': 'false' } }, {}, false],
  // Binary
  ['BinaryEquals', { BinaryEquals: { 'test:blob': Buffer.from('hello').toString('base64') } }, { 'test:blob': Buffer.from('hello').toString('base64') }, true],
  ['BinaryEquals differs', { BinaryEquals: { 'test:blob': Buffer.from('hello').toString('base64') } }, { 'test:blob': Buffer.from('hellp').toString('base64') }, false],
  // IP
  ['IpAddress CIDR v4', { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:sourceip': '10.1.2.3' }, true],
  ['IpAddress outside', { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:sourceip': '11.1.2.3' }, false],
  ['IpAddress single address', { IpAddress: { 'aws:SourceIp': '192.168.1.7' } }, { 'aws:sourceip': '192.168.1.7' }, true],
  ['IpAddress /25 boundary', { IpAddress: { 'aws:SourceIp': '192.168.1.0/25' } }, { 'aws:sourceip': '192.168.1.128' }, false],
  ['IpAddress IPv4-mapped client', { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } }, { 'aws:sourceip': '::ffff:127.0.0.1' }, true],
  ['IpAddress IPv6 CIDR', { IpAddress: { 'aws:SourceIp': '2001:db8::/32' } }, { 'aws:sourceip': '2001:db8:1::5' }, true],
  ['IpAddress IPv6 outside', { IpAddress: { 'aws:SourceIp': '2001:db8::/32' } }, { 'aws:sourceip': '2001:db9::5' }, false],
  ['IpAddress v6 never matches v4', { IpAddress: { 'aws:SourceIp': '::/0' } }, { 'aws:sourceip': '10.0.0.1' }, false],
  ['IpAddress loopback v6', { IpAddress: { 'aws:SourceIp': '::1/128' } }, { 'aws:sourceip': '::1' }, true],
  ['NotIpAddress outside', { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '192.168.0.0/16'] } }, { 'aws:sourceip': '8.8.8.8' }, true],
  ['NotIpAddress inside', { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '192.168.0.0/16'] } }, { 'aws:sourceip': '192.168.3.3' }, false],
  ['NotIpAddress missing key is true', { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, {}, true],
  // ARN
  ['ArnEquals exact', { ArnEquals: { 'aws:PrincipalArn': 'arn:aws:iam::000000000000:user/tom' } }, { 'aws:principalarn': 'arn:aws:iam::000000000000:user/tom' }, true],
  ['ArnLike wildcard resource part', { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:user/t*' } }, { 'aws:principalarn': 'arn:aws:iam::000000000000:user/tom' }, true],
  ['ArnLike * does not cross components', { ArnLike: { 'aws:PrincipalArn': 'arn:*:iam::000000000000:user/tom' } }, { 'aws:principalarn': 'arn:aws:x:iam::000000000000:user/tom' }, false],
  ['ArnEquals allows wildcards like AWS', { ArnEquals: { 'aws:PrincipalArn': 'arn:aws:iam::000000000000:user/*' } }, { 'aws:principalarn': 'arn:aws:iam::000000000000:user/tom' }, true],
  ['ArnNotEquals', { ArnNotEquals: { 'aws:PrincipalArn': 'arn:aws:iam::000000000000:user/ann' } }, { 'aws:principalarn': 'arn:aws:iam::000000000000:user/tom' }, true],
  ['ArnNotLike matching', { ArnNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:user/*' } }, { 'aws:principalarn': 'arn:aws:iam::000000000000:user/tom' }, false],
  ['ArnLike non-ARN context', { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:user/*' } }, { 'aws:principalarn': 'tom' }, false],
  ['ArnNotLike missing key is true', { ArnNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:user/*' } }, {}, true],
  // Null
  ['Null true: key absent', { Null: { 'aws:username': 'true' } }, {}, true],
  ['Null true: key present', { Null: { 'aws:username': 'true' } }, { 'aws:username': 'tom' }, false],
  ['Null false: key present', { Null: { 'aws:username': 'false' } }, { 'aws:username': 'tom' }, true],
  ['Null false: key absent', { Null: { 'aws:username': false } }, {}, false],
  ['Null: empty string is present', { Null: { 's3:prefix': 'false' } }, { 's3:prefix': '' }, true],
  // IfExists
  ['IfExists on missing key is true', { StringEqualsIfExists: { 'aws:username': 'tom' } }, {}, true],
  ['IfExists present and matching', { StringEqualsIfExists: { 'aws:username': 'tom' } }, { 'aws:username': 'tom' }, true],
  ['IfExists present and not matching', { StringEqualsIfExists: { 'aws:username': 'tom' } }, { 'aws:username': 'ann' }, false],
  ['NumericLessThanIfExists missing', { NumericLessThanIfExists: { 's3:max-keys': '10' } }, {}, true],
  ['NumericLessThanIfExists too big', { NumericLessThanIfExists: { 's3:max-keys': '10' } }, { 's3:max-keys': '100' }, false],
  ['IpAddressIfExists missing', { IpAddressIfExists: { 'aws:SourceIp': '10.0.0.0/8' } }, {}, true],
  ['StringNotEqualsIfExists missing', { StringNotEqualsIfExists: { 'aws:username': 'tom' } }, {}, true],
  ['BoolIfExists missing', { BoolIfExists: { 'aws:SecureTransport': 'true' } }, {}, true],
  ['ArnLikeIfExists missing', { ArnLikeIfExists: { 'aws:PrincipalArn': 'arn:aws:iam::*:user/*' } }, {}, true],
  ['DateLessThanIfExists missing', { DateLessThanIfExists: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } }, {}, true],
  // Multi-valued keys and set qualifiers
  ['plain StringEquals on multi-valued key: any value', { StringEquals: { 's3:requestobjecttagkeys': 'a' } }, { 's3:requestobjecttagkeys': ['a', 'b'] }, true],
  ['plain StringNotEquals on multi-valued key: none may match', { StringNotEquals: { 's3:requestobjecttagkeys': 'a' } }, { 's3:requestobjecttagkeys': ['a', 'b'] }, false],
  ['ForAllValues all in set', { 'ForAllValues:StringEquals': { 's3:RequestObjectTagKeys': ['a', 'b', 'c'] } }, { 's3:requestobjecttagkeys': ['a', 'b'] }, true],
  ['ForAllValues one outside', { 'ForAllValues:StringEquals': { 's3:RequestObjectTagKeys': ['a'] } }, { 's3:requestobjecttagkeys': ['a', 'b'] }, false],
  ['ForAllValues missing key is true', { 'ForAllValues:StringEquals': { 's3:RequestObjectTagKeys': ['a'] } }, {}, true],
  ['ForAllValues empty set is true', { 'ForAllValues:StringEquals': { 's3:RequestObjectTagKeys': ['a'] } }, { 's3:requestobjecttagkeys': [] }, true],
  ['ForAnyValue one in set', { 'ForAnyValue:StringEquals': { 's3:RequestObjectTagKeys': ['b'] } }, { 's3:requestobjecttagkeys': ['a', 'b'] }, true],
  ['ForAnyValue none in set', { 'ForAnyValue:StringEquals': { 's3:RequestObjectTagKeys': ['z'] } }, { 's3:requestobjecttagkeys': ['a', 'b'] }, false],
  ['ForAnyValue missing key is false', { 'ForAnyValue:StringEquals': { 's3:RequestObjectTagKeys': ['a'] } }, {}, false],
  ['ForAnyValue empty set is false', { 'ForAnyValue:StringEquals': { 's3:RequestObjectTagKeys': ['a'] } }, { 's3:requestobjecttagkeys': [] }, false],
  ['ForAnyValue IfExists missing is true', { 'ForAnyValue:StringEqualsIfExists': { 's3:RequestObjectTagKeys': ['a'] } }, {}, true],
  ['ForAnyValue:StringLike', { 'ForAnyValue:StringLike': { 's3:RequestObjectTagKeys': ['proj*'] } }, { 's3:requestobjecttagkeys': ['x', 'project'] }, true],
  ['ForAllValues:StringLike', { 'ForAllValues:StringLike': { 's3:RequestObjectTagKeys': ['proj*'] } }, { 's3:requestobjecttagkeys': ['x', 'project'] }, false],
  ['ForAnyValue:StringNotEquals some value outside', { 'ForAnyValue:StringNotEquals': { 's3:RequestObjectTagKeys': ['a'] } }, { 's3:requestobjecttagkeys': ['a', 'b'] }, true],
  ['ForAnyValue:StringNotEquals all inside', { 'ForAnyValue:StringNotEquals': { 's3:RequestObjectTagKeys': ['a', 'b'] } }, { 's3:requestobjecttagkeys': ['a', 'b'] }, false],
  ['ForAllValues:StringNotEquals none inside', { 'ForAllValues:StringNotEquals': { 's3:RequestObjectTagKeys': ['z'] } }, { 's3:requestobjecttagkeys': ['a', 'b'] }, true],
  ['ForAllValues:StringNotEquals missing key is true', { 'ForAllValues:StringNotEquals': { 's3:RequestObjectTagKeys': ['z'] } }, {}, true],
  ['ForAllValues:NumericLessThan', { 'ForAllValues:NumericLessThan': { 'test:n': '5' } }, { 'test:n': ['1', '4'] }, true],
  ['ForAllValues:StringEqualsIgnoreCase', { 'ForAllValues:StringEqualsIgnoreCase': { 'test:k': ['A', 'B'] } }, { 'test:k': ['a', 'b'] }, true],
  // Combining
  ['two operators AND', { StringEquals: { 'aws:username': 'tom' }, Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:username': 'tom', 'aws:securetransport': 'false' }, false],
  ['two keys of one operator AND', { StringEquals: { 'aws:username': 'tom', 'aws:userid': 'u1' } }, { 'aws:username': 'tom', 'aws:userid': 'u1' }, true],
  ['two keys of one operator AND (one fails)', { StringEquals: { 'aws:username': 'tom', 'aws:userid': 'u1' } }, { 'aws:username': 'tom', 'aws:userid': 'u2' }, false],
  ['operator names are case-insensitive', { stringequals: { 'aws:username': 'tom' } }, { 'aws:username': 'tom' }, true],
];

for (const [name, condition, ctx, expected] of rows) {
  test(`condition: ${name}`, () => {
    assert.equal(holds(condition, ctx), expected);
  });
}

test('every operator family is rejected with a clear message for a bad value', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ NumericEquals: { 's3:max-keys': 'ten' } }, /invalid value 'ten': expected a number/],
    [{ DateLessThan: { 'aws:CurrentTime': 'tomorrow' } }, /expected a date/],
    [{ Bool: { 'aws:SecureTransport': 'yes' } }, /expected "true" or "false"/],
    [{ IpAddress: { 'aws:SourceIp': '10.0.0.0/33' } }, /expected an IP address or CIDR block/],
    [{ IpAddress: { 'aws:SourceIp': '300.1.1.1' } }, /expected an IP address or CIDR block/],
    [{ ArnLike: { 'aws:PrincipalArn': 'not-an-arn' } }, /expected an ARN/],
    [{ ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam*:user/tom' } }, /expected an ARN/],
    [{ BinaryEquals: { 'test:b': '%%%' } }, /expected base64 data/],
    [{ Null: { 'aws:username': 'maybe' } }, /Null takes "true" or "false"/],
    [{ StringEqualz: { 'aws:username': 'x' } }, /unknown condition operator 'StringEqualz'/],
    [{ NullIfExists: { 'aws:username': 'true' } }, /Null takes neither IfExists/],
    [{ 'ForAnyValue:Null': { 'aws:username': 'true' } }, /Null takes neither/],
    [{ StringEquals: { 'aws:username': { nested: true } } }, /condition values must be strings/],
    [{ StringEquals: 'tom' }, /an operator must map condition keys to values/],
  ];
  for (const [cond, re] of bad) {
    assert.throws(() => holds(cond, {}), (e: Error) => { assert.match(e.message, re); assert.match(e.message, /Statement\[0\]\.Condition/); return true; }, JSON.stringify(cond));
  }
});
