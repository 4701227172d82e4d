/**
 * boto3 (default settings: flexible checksums on) against the real server. A Python
 * script does the client work and asserts what boto3 sees; this side checks the files
 * that landed in the data dir and what the script downloaded.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let dir: string;

before(async () => {
  const r = spawnSync('python3', ['-c', 'import boto3']);
  if (r.status !== 0) assert.fail(`python3 with boto3 is needed: apt-get install python3-boto3 (${r.error?.message ?? r.stderr})`);
  server = await startServer();
  dir = mkdtempSync(join(tmpdir(), 's3gate-boto3-'));
});
after(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const SCRIPT = String.raw`
import hashlib, json, os, sys, urllib.request
import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

work = sys.argv[1]
s3 = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT'], region_name='us-east-1',
                  aws_access_key_id=os.environ['S3_ACCESS_KEY'], aws_secret_access_key=os.environ['S3_SECRET_KEY'],
                  config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
out = {}
def code_of(fn):
    try:
        fn()
    except ClientError as e:
        return e.response['Error']['Code']
    return 'no error'

b = 'boto-bucket'
s3.create_bucket(Bucket=b)
assert code_of(lambda: s3.create_bucket(Bucket=b)) == 'BucketAlreadyOwnedByYou'

body = b'hello boto3 ' * 1000
r = s3.put_object(Bucket=b, Key='small/hello.txt', Body=body, ContentType='text/x-boto', Metadata={'who': 'boto3'})
assert r['ETag'] == '"%s"' % hashlib.md5(body).hexdigest(), r['ETag']
g = s3.get_object(Bucket=b, Key='small/hello.txt')
assert g['Body'].read() == body
assert g['ContentType'] == 'text/x-boto'
assert g['Metadata'] == {'who': 'boto3'}, g['Metadata']
h = s3.head_object(Bucket=b, Key='small/hello.txt')
assert h['ContentLength'] == len(body)
rg = s3.get_object(Bucket=b, Key='small/hello.txt', Range='bytes=6-11')
assert rg['Body'].read() == b'boto3 ' and rg['ResponseMetadata']['HTTPStatusCode'] == 206
assert code_of(lambda: s3.get_object(Bucket=b, Key='small/missing')) == 'NoSuchKey'

for i in range(25):
    s3.put_object(Bucket=b, Key='list/%s/%02d' % ('even' if i % 2 == 0 else 'odd', i), Body=b'x' * i)
pages = list(s3.get_paginator('list_objects_v2').paginate(Bucket=b, Prefix='list/', PaginationConfig={'PageSize': 4}))
keys = [o['Key'] for p in pages for o in p.get('Contents', [])]
assert len(pages) == 7, len(pages)
assert keys == sorted(keys) and len(keys) == 25
d = s3.list_objects_v2(Bucket=b, Prefix='list/', Delimiter='/')
assert [p['Prefix'] for p in d['CommonPrefixes']] == ['list/even/', 'list/odd/']

big = os.path.join(work, 'big.bin')
cfg = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024, max_concurrency=4)
s3.upload_file(big, b, 'big/big.bin', Config=cfg, ExtraArgs={'Metadata': {'kind': 'big'}})
hb = s3.head_object(Bucket=b, Key='big/big.bin')
out['bigEtag'] = hb['ETag']
assert hb['Metadata'] == {'kind': 'big'}
s3.download_file(b, 'big/big.bin', os.path.join(work, 'big.down'), Config=cfg)
# a single-part upload_file below the threshold, and upload_fileobj
s3.upload_file(os.path.join(work, 'mid.bin'), b, 'big/mid.bin', Config=cfg)
with open(os.path.join(work, 'mid.bin'), 'rb') as f:
    s3.upload_fileobj(f, b, 'big/mid-fileobj.bin', Config=TransferConfig(multipart_threshold=1024 * 1024, multipart_chunksize=5 * 1024 * 1024))
out['midEtag'] = s3.head_object(Bucket=b, Key='big/mid.bin')['ETag']
out['midFileobjEtag'] = s3.head_object(Bucket=b, Key='big/mid-fileobj.bin')['ETag']

url = s3.generate_presigned_url('get_object', Params={'Bucket': b, 'Key': 'small/hello.txt'}, ExpiresIn=60)
assert urllib.request.urlopen(url).read() == body

s3.copy_object(Bucket=b, Key='small/copy.txt', CopySource={'Bucket': b, 'Key': 'small/hello.txt'})
assert s3.get_object(Bucket=b, Key='small/copy.txt')['Body'].read() == body
s3.delete_object(Bucket=b, Key='small/copy.txt')
assert code_of(lambda: s3.head_object(Bucket=b, Key='small/copy.txt')) == '404'

assert code_of(lambda: s3.delete_bucket(Bucket=b)) == 'BucketNotEmpty'
listed = [o['Key'] for p in s3.get_paginator('list_objects_v2').paginate(Bucket=b) for o in p.get('Contents', [])]
res = s3.delete_objects(Bucket=b, Delete={'Objects': [{'Key': k} for k in listed]})
assert len(res['Deleted']) == len(listed) and not res.get('Errors')
out['deleted'] = len(listed)
s3.delete_bucket(Bucket=b)
assert code_of(lambda: s3.head_bucket(Bucket=b)) == '404'
print(json.dumps(out))
`;

function runPython(script: string, args: string[]): Promise<string> {
  return new Promise((ok, fail) => {
    execFile('python3', [script, ...args], {
      env: { ...process.env, S3_ENDPOINT: server.url, S3_ACCESS_KEY: server.accessKey, S3_SECRET_KEY: server.secretKey, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' },
      maxBuffer: 16 << 20,
    }, (err, stdout, stderr) => {
      if (err) fail(new Error(`boto3 script failed (${err.code}):\n${stderr}\nserver:\n${server.output().slice(-2000)}`));
      else ok(stdout);
    });
  });
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

test('boto3: put/get/head/range/list/paginate, upload_file and download_file with TransferConfig, presign, copy, delete', async () => {
  const big = randomBytes(45 * 1024 * 1024 + 3); // six 8 MiB parts
  const mid = randomBytes(3 * 1024 * 1024);
  writeFileSync(join(dir, 'big.bin'), big);
  writeFileSync(join(dir, 'mid.bin'), mid);
  writeFileSync(join(dir, 'script.py'), SCRIPT);
  const out = JSON.parse(await runPython(join(dir, 'script.py'), [dir]));

  // upload_file went multipart (ETag "<md5 of part md5s>-6"), download_file got every byte back
  const partMd5s = Buffer.concat(Array.from({ length: 6 }, (_, i) => createHash('md5').update(big.subarray(i * 8 << 20, (i + 1) * 8 << 20)).digest()));
  assert.equal(out.bigEtag, `"${md5(partMd5s)}-6"`);
  assert.equal(md5(readFileSync(join(dir, 'big.down'))), md5(big));
  assert.equal(out.midEtag, `"${md5(mid)}"`, 'below the threshold: a single PUT');
  assert.match(out.midFileobjEtag, /^"[0-9a-f]{32}-1"$/, 'upload_fileobj over its 1 MiB threshold: one 5 MiB part');
  assert.equal(out.deleted, 29);
});
