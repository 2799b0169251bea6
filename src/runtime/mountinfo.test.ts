import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findMount, hasMfsymlinks, isCifs, parseMountinfo } from './mountinfo.js';
import { RuntimeError } from './errors.js';

// Lines shaped like a real AKS node's: an ext4 root, an Azure Files share with and without
// mfsymlinks, and the kubelet's projected service-account volume.
const SAMPLE = [
  '1200 1100 0:310 / / rw,relatime master:1 - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w',
  '1201 1200 0:312 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw',
  '1210 1200 0:60 / /data rw,relatime - cifs //acct.file.core.windows.net/warden rw,vers=3.1.1,cache=strict,uid=10001,noforceuid,gid=10001,mfsymlinks,actimeo=30',
  '1211 1200 0:61 / /plain rw,relatime - cifs //acct.file.core.windows.net/other rw,vers=3.1.1,cache=strict,uid=10001',
  '1212 1200 0:62 / /with\\040space rw,relatime - ext4 /dev/sdb1 rw',
  '1220 1200 0:70 / /var/run/secrets/kubernetes.io/serviceaccount ro,relatime - tmpfs tmpfs rw,size=4194304k,inode64',
  '',
].join('\n');

test('parses mountinfo fields, including optional fields and octal escapes', () => {
  const entries = parseMountinfo(SAMPLE);
  assert.equal(entries.length, 6);
  const [root, , share, plain, spaced] = entries;
  assert.equal(root?.mountPoint, '/');
  assert.equal(root?.fsType, 'overlay'); // 'master:1' is an optional field before the '-'
  assert.equal(share?.fsType, 'cifs');
  assert.equal(share?.source, '//acct.file.core.windows.net/warden');
  assert.ok(share !== undefined && isCifs(share) && hasMfsymlinks(share));
  assert.ok(plain !== undefined && isCifs(plain) && !hasMfsymlinks(plain));
  assert.equal(spaced?.mountPoint, '/with space');
});

test('rejects a malformed line with a coded error', () => {
  assert.throws(
    () => parseMountinfo('12 1 0:1 / /x rw no-separator-here'),
    (error: unknown) => error instanceof RuntimeError && error.code === 'WARDEN_ERR_RUNTIME_BAD_MOUNTINFO',
  );
  const skipped: string[] = [];
  assert.equal(parseMountinfo(`bad line\n${SAMPLE}`, { onMalformed: (line) => skipped.push(line) }).length, 6);
  assert.deepEqual(skipped, ['bad line']);
});

test('findMount picks the longest containing mount point, the last of stacked mounts', () => {
  const entries = parseMountinfo(SAMPLE + '1300 1210 0:80 / /data rw - ext4 /dev/sdc rw\n');
  assert.equal(findMount(entries, '/data/owner/name')?.fsType, 'ext4');
  assert.equal(findMount(entries, '/datastore')?.mountPoint, '/');
  assert.equal(findMount(entries, '/plain')?.source, '//acct.file.core.windows.net/other');
  assert.equal(findMount(entries, '/with space/x')?.fsType, 'ext4');
});
