// JetStream object store through the official nats.js client (@nats-io/obj).
// The object store is a client-side layout over a stream (no Go server test
// covers it directly): these tests check what the server stores and returns.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomFillSync } from 'node:crypto';
import { Objm } from '@nats-io/obj';
import { StorageType } from '@nats-io/jetstream';
import { withServer, rejects, within } from './server.mjs';

const te = new TextEncoder();

function sha256Digest(buf) {
  // base64url alphabet, with '=' padding (as the client writes it)
  const b64 = createHash('sha256').update(buf).digest('base64');
  return 'SHA-256=' + b64.replace(/\+/g, '-').replace(/\//g, '_');
}

function randomBytes(n) {
  const b = new Uint8Array(n);
  // randomFillSync has a 64 KiB-per-call friendly limit in some runtimes; fill in slices.
  for (let off = 0; off < n; off += 65536) randomFillSync(b, off, Math.min(65536, n - off));
  return b;
}

function streamOf(buf, piece = 7001) {
  let off = 0;
  return new ReadableStream({
    pull(controller) {
      if (off >= buf.length) {
        controller.close();
        return;
      }
      controller.enqueue(buf.subarray(off, Math.min(buf.length, off + piece)));
      off += piece;
    },
  });
}

function getBlob(os, name) {
  return within(os.getBlob(name), 20000, `getBlob(${name})`);
}

async function readAll(rs) {
  return within(readAllUnbounded(rs), 20000, 'object data to be read');
}

async function readAllUnbounded(rs) {
  const parts = [];
  let n = 0;
  const reader = rs.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    n += value.length;
  }
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

test('put a multi-chunk object, get it back byte for byte with its digest', async () => {
  for (const storage of [StorageType.File, StorageType.Memory]) {
    await withServer(async ({ nc, jsm }) => {
      const os = await new Objm(nc).create('files', { storage, description: 'test bucket' });
      const size = 300 * 1024;
      const chunk = 16 * 1024;
      const data = randomBytes(size);
      const info = await os.put({ name: 'big.bin', description: 'random', options: { max_chunk_size: chunk }, metadata: { k: 'v' } }, streamOf(data));
      assert.equal(info.name, 'big.bin');
      assert.equal(info.bucket, 'files');
      assert.equal(info.size, size);
      assert.equal(info.chunks, Math.ceil(size / chunk));
      assert.equal(info.digest, sha256Digest(data));
      assert.equal(info.deleted, false);

      // The chunks and the meta message are stored in the backing stream.
      const si = await jsm.streams.info('OBJ_files', { subjects_filter: '>' });
      assert.equal(si.state.messages, info.chunks + 1);
      assert.equal(si.state.subjects[`$O.files.C.${info.nuid}`], info.chunks);
      assert.equal(si.config.storage, storage);
      assert.equal(si.config.allow_rollup_hdrs, true);

      const r = await os.get('big.bin');
      assert.ok(r, 'object found');
      const got = await readAll(r.data);
      assert.ok(!(await r.error), 'no digest or size error');
      assert.equal(got.length, size);
      assert.ok(Buffer.from(got).equals(Buffer.from(data)), 'bytes match');
      assert.equal(r.info.digest, sha256Digest(got));
      assert.equal(r.info.description, 'random');
      assert.deepEqual(r.info.metadata, { k: 'v' });

      const blob = await getBlob(os, 'big.bin');
      assert.ok(Buffer.from(blob).equals(Buffer.from(data)));

      const st = await os.status();
      assert.equal(st.bucket, 'files');
      assert.equal(st.description, 'test bucket');
      assert.ok(st.size >= size);
    });
  }
});

test('list, info, replace, delete objects', async () => {
  await withServer(async ({ nc, jsm }) => {
    const os = await new Objm(nc).create('b');
    await os.putBlob({ name: 'one' }, te.encode('first'));
    await os.putBlob({ name: 'two' }, te.encode('second'));
    await os.putBlob({ name: 'empty' }, new Uint8Array(0));

    let list = await os.list();
    assert.deepEqual(list.map((i) => i.name).sort(), ['empty', 'one', 'two']);
    const e = await os.info('empty');
    assert.equal(e.size, 0);
    assert.equal(e.chunks, 0);
    assert.equal((await getBlob(os, 'empty')).length, 0);

    // Replacing an object purges the old chunks.
    const old = await os.info('one');
    const neu = await os.putBlob({ name: 'one' }, te.encode('first, replaced'));
    assert.notEqual(neu.nuid, old.nuid);
    assert.equal(new TextDecoder().decode(await getBlob(os, 'one')), 'first, replaced');
    const si = await jsm.streams.info('OBJ_b', { subjects_filter: '$O.b.C.>' });
    assert.equal(si.state.subjects[`$O.b.C.${old.nuid}`], undefined, 'old chunks purged');

    // Delete: info reports deleted, get returns null, list omits it.
    const pr = await os.delete('two');
    assert.equal(pr.success, true);
    const gone = await os.info('two');
    assert.equal(gone.deleted, true);
    assert.equal(gone.size, 0);
    assert.equal(await os.get('two'), null);
    list = await os.list();
    assert.deepEqual(list.map((i) => i.name).sort(), ['empty', 'one']);
    assert.equal(await os.info('never'), null);

    // Rename through update.
    await os.update('one', { name: 'uno', description: 'renamed' });
    assert.equal(await os.info('one'), null);
    const uno = await os.info('uno');
    assert.equal(uno.description, 'renamed');
    assert.equal(new TextDecoder().decode(await getBlob(os, 'uno')), 'first, replaced');
  });
});

test('links to objects and to other buckets', async () => {
  await withServer(async ({ nc }) => {
    const objm = new Objm(nc);
    const os = await objm.create('src');
    const data = randomBytes(50 * 1024);
    const target = await os.put({ name: 'target', options: { max_chunk_size: 8192 } }, streamOf(data));

    const link = await os.link('alias', target);
    assert.equal(link.name, 'alias');
    assert.deepEqual(link.options.link, { bucket: 'src', name: 'target' });
    const viaLink = await os.get('alias');
    const got = await readAll(viaLink.data);
    assert.ok(!(await viaLink.error), 'no error reading through the link');
    assert.ok(Buffer.from(got).equals(Buffer.from(data)), 'link resolves to the target bytes');

    // Links to links are refused; so are links to deleted objects.
    await rejects(os.link('alias2', await os.info('alias')), 'link to a link');

    // Cross-bucket object link and bucket link.
    const other = await objm.create('other');
    const x = await other.putBlob({ name: 'x' }, te.encode('in other'));
    await os.link('to-x', x);
    assert.equal(new TextDecoder().decode(await getBlob(os, 'to-x')), 'in other');
    const bl = await os.linkStore('bucket-link', other);
    assert.deepEqual(bl.options.link, { bucket: 'other' });

    await os.delete('target');
    await rejects(os.link('late', await os.info('target')), 'link to a deleted object');
    const names = (await os.list()).map((i) => i.name).sort();
    assert.deepEqual(names, ['alias', 'bucket-link', 'to-x']);
  });
});

test('sealed bucket refuses writes; destroy removes the stream', async () => {
  await withServer(async ({ nc, jsm }) => {
    const objm = new Objm(nc);
    const os = await objm.create('s');
    await os.putBlob({ name: 'a' }, te.encode('A'));
    const st = await os.seal();
    assert.equal(st.sealed, true);
    const si = await jsm.streams.info('OBJ_s');
    assert.equal(si.config.sealed, true);
    await rejects(os.putBlob({ name: 'b' }, te.encode('B')), 'put into a sealed bucket');
    assert.equal(new TextDecoder().decode(await getBlob(os, 'a')), 'A');

    const buckets = [];
    for await (const s of objm.list()) buckets.push(s.bucket);
    assert.deepEqual(buckets, ['s']);
    assert.equal(await os.destroy(), true);
    await rejects(jsm.streams.info('OBJ_s'), 'stream removed');
  });
});
