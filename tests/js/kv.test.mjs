// JetStream key-value buckets through the official nats.js client (@nats-io/kv).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kvm } from '@nats-io/kv';
import { AckPolicy, DeliverPolicy, StorageType, JetStreamApiError } from '@nats-io/jetstream';
import { createInbox } from '@nats-io/transport-node';
import { withServer, rejects, waitFor, take, within, nsFromMs } from './server.mjs';

// Drain a client iterator that ends by itself (keys, history), with a deadline.
async function all(iterPromise) {
  const out = [];
  await within((async () => {
    for await (const v of await iterPromise) out.push(v);
  })(), 10000, 'iterator to end');
  return out;
}

test('create bucket: backing stream configuration and status', async () => {
  // (the bucket layout is defined by the client; the Go server only stores the stream)
  await withServer(async ({ nc, jsm }) => {
    const kvm = new Kvm(nc);
    const kv = await kvm.create('cfg', { history: 5, ttl: 60000, max_bytes: 1 << 20, maxValueSize: 1024, description: 'd' });
    const st = await kv.status();
    assert.equal(st.bucket, 'cfg');
    assert.equal(st.history, 5);
    assert.equal(st.ttl, 60000);
    assert.equal(st.values, 0);
    assert.equal(st.streamInfo.config.name, 'KV_cfg');

    const si = await jsm.streams.info('KV_cfg');
    assert.deepEqual(si.config.subjects, ['$KV.cfg.>']);
    assert.equal(si.config.max_msgs_per_subject, 5);
    assert.equal(si.config.max_age, nsFromMs(60000));
    assert.equal(si.config.max_bytes, 1 << 20);
    assert.equal(si.config.max_msg_size, 1024);
    assert.equal(si.config.allow_rollup_hdrs, true);
    assert.equal(si.config.allow_direct, true);
    assert.equal(si.config.discard, 'new');

    const names = [];
    for await (const s of kvm.list()) names.push(s.bucket);
    assert.deepEqual(names, ['cfg']);

    // Open the existing bucket; a value larger than maxValueSize is refused.
    const kv2 = await kvm.open('cfg');
    await rejects(kv2.put('big', new Uint8Array(2048)), 'value over max_msg_size');
    assert.equal(await kv.destroy(), true);
    await rejects(jsm.streams.info('KV_cfg'), 'backing stream gone');
  });
});

test('put/get with revisions; update with a wrong revision fails', async () => {
  // GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamLastSequenceBySubject", "through the KV update path (expected last subject sequence)")
  for (const storage of [StorageType.File, StorageType.Memory]) {
    await withServer(async ({ nc }) => {
      const kv = await new Kvm(nc).create('TEST', { history: 10, storage });
      const r1 = await kv.put('name', 'derek');
      assert.equal(r1, 1);
      const e1 = await kv.get('name');
      assert.equal(e1.string(), 'derek');
      assert.equal(e1.revision, 1);
      assert.equal(e1.operation, 'PUT');
      assert.equal(e1.bucket, 'TEST');
      assert.equal(e1.key, 'name');
      assert.ok(e1.created instanceof Date);

      const r2 = await kv.update('name', 'ivan', r1);
      assert.equal(r2, 2);
      assert.equal((await kv.get('name')).string(), 'ivan');

      // Wrong revision: refused with "wrong last sequence".
      const err = await rejects(kv.update('name', 'nope', r1), 'update with stale revision');
      assert.ok(err instanceof JetStreamApiError, `${err.name}: ${err.message}`);
      assert.equal(err.code, 10071);
      assert.match(err.message, /wrong last sequence: 2/);
      assert.equal((await kv.get('name')).string(), 'ivan');

      // put with previousSeq behaves like update.
      await rejects(kv.put('name', 'x', { previousSeq: 1 }), 'put with stale previousSeq');
      assert.equal(await kv.put('name', 'waldemort', { previousSeq: 2 }), 3);

      // Get an older revision.
      const old = await kv.get('name', { revision: 1 });
      assert.equal(old.string(), 'derek');
      assert.equal(old.revision, 1);
      // Revision belonging to another key is not returned.
      await kv.put('other', 'o');
      assert.equal(await kv.get('name', { revision: 4 }), null);

      assert.equal(await kv.get('missing'), null);
      const st = await kv.status();
      assert.equal(st.values, 4);
    });
  }
});

test('create only succeeds when the key is absent, deleted or purged', async () => {
  // GO_TEST("server/jetstream_test.go", "TestJetStreamKVHistoryRegression")
  for (const storage of [StorageType.File, StorageType.Memory]) {
    await withServer(async ({ nc }) => {
      const kv = await new Kvm(nc).create('TEST', { history: 4, storage });
      const r1 = await kv.create('foo', 'a');
      assert.equal(r1, 1);
      const err = await rejects(kv.create('foo', 'again'), 'create of an existing key');
      assert.ok(err instanceof JetStreamApiError || /exists/.test(err.message), err.message);

      await kv.update('foo', 'ab', r1);
      await kv.delete('foo');
      assert.equal(await kv.create('foo', 'abc'), 4, 'create after delete');
      await kv.delete('foo');

      let history = await all(kv.history({ key: 'foo' }));
      assert.equal(history.length, 4);
      assert.deepEqual(history.map((e) => e.revision), [2, 3, 4, 5]);
      assert.deepEqual(history.map((e) => e.operation), ['PUT', 'DEL', 'PUT', 'DEL']);

      await kv.update('foo', 'abcd', history[history.length - 1].revision);
      await kv.purge('foo');
      assert.equal(await kv.create('foo', 'abcde'), 8, 'create after purge');
      await kv.purge('foo');

      history = await all(kv.history({ key: 'foo' }));
      assert.equal(history.length, 1);
      assert.equal(history[0].operation, 'PURGE');
      assert.equal(history[0].revision, 9);
    });
  }
});

test('delete and purge markers; deleted keys disappear from keys()', async () => {
  // GO_TEST("server/jetstream_test.go", "TestJetStreamKVDelete")
  await withServer(async ({ nc, js, jsm }) => {
    const kv = await new Kvm(nc).create('deletion', { history: 10 });
    for (const k of ['a', 'a.a', 'a.b', 'a.b.c']) await kv.put(k, '');
    let keys = await all(kv.keys());
    assert.deepEqual(keys.sort(), ['a', 'a.a', 'a.b', 'a.b.c']);

    // A last-per-subject push consumer on a.* sees exactly 2 keys.
    const deliver = createInbox();
    const ci = await jsm.consumers.add('KV_deletion', {
      name: 'keys', filter_subject: '$KV.deletion.a.*', deliver_policy: DeliverPolicy.LastPerSubject,
      deliver_subject: deliver, max_deliver: 1, ack_policy: AckPolicy.None, mem_storage: true,
      flow_control: true, idle_heartbeat: nsFromMs(5000),
    });
    assert.equal(ci.num_pending, 2);
    const pc = await js.consumers.getPushConsumer('KV_deletion', 'keys');
    const msgs = await take(await pc.consume(), 2, 3000);
    assert.deepEqual(msgs.map((m) => m.subject).sort(), ['$KV.deletion.a.a', '$KV.deletion.a.b']);

    await kv.delete('a.a');
    await kv.delete('a.b');

    // A watcher over everything reports the two deletes among the current values.
    const w = await kv.watch();
    const deletes = [];
    let initial = 0;
    await within((async () => {
      for await (const e of w) {
        initial++;
        if (e.operation === 'DEL') deletes.push(e.key);
        if (e.delta === 0) break;
      }
    })(), 5000, 'watcher initial values');
    assert.equal(initial, 4);
    assert.deepEqual(deletes.sort(), ['a.a', 'a.b']);

    keys = await all(kv.keys());
    assert.deepEqual(keys.sort(), ['a', 'a.b.c']);
    const del = await kv.get('a.a');
    assert.equal(del.operation, 'DEL');
    assert.equal(del.length, 0);

    // Purge leaves a single purge marker for the key.
    await kv.put('p', '1');
    await kv.put('p', '2');
    await kv.purge('p');
    const hist = await all(kv.history({ key: 'p' }));
    assert.deepEqual(hist.map((e) => e.operation), ['PURGE']);
    const si = await jsm.streams.info('KV_deletion', { subjects_filter: '$KV.deletion.p' });
    assert.deepEqual(si.state.subjects, { '$KV.deletion.p': 1 });

    // Delete with a revision check.
    const r = await kv.put('c', '1');
    await rejects(kv.delete('c', { previousSeq: r - 1 }), 'delete with stale revision');
    await kv.delete('c', { previousSeq: r });
    assert.equal((await kv.get('c')).operation, 'DEL');
  });
});

test('history is limited by the bucket history setting', async () => {
  // GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamKVReductionInHistory", "100 keys instead of 1000; account storage is checked after the reduction")
  await withServer(async ({ nc, jsm, is29 }) => {
    const kvm = new Kvm(nc);
    const kv = await kvm.create('TEST', { history: 4 });
    const numKeys = 100;
    const msg = 'ABC'.repeat(330);
    for (let round = 0; round < 6; round++) {
      for (let k = 1; k <= numKeys; k++) await kv.put(k.toString(16).toUpperCase(), msg);
    }
    let st = await kv.status();
    assert.equal(st.values, 4 * numKeys, 'only 4 revisions per key are kept');
    const h = await all(kv.history({ key: '1' }));
    assert.equal(h.length, 4);
    assert.deepEqual(h.map((e) => e.revision), [201, 301, 401, 501]);

    const before = await jsm.getAccountInfo();
    const si = await jsm.streams.info('KV_TEST');
    await jsm.streams.update('KV_TEST', { ...si.config, max_msgs_per_subject: 1 });
    st = await kv.status();
    assert.equal(st.values, numKeys);
    assert.equal(st.history, 1);
    // Go 2.9.10 does not give the storage back to the account here (the Go
    // test was added later); v2.14.5 does.
    if (!is29) await waitFor(async () => (await jsm.getAccountInfo()).storage < before.storage, { what: 'account storage to shrink' });

    const keys = await all(kv.keys());
    assert.equal(keys.length, numKeys);
    for (const k of keys) {
      const e = await kv.get(k);
      assert.equal(e.string(), msg);
    }
  });
});

test('keys with a filter', async () => {
  await withServer(async ({ nc }) => {
    const kv = await new Kvm(nc).create('K');
    for (const k of ['a.b', 'a.c', 'b.a', 'x']) await kv.put(k, '1');
    assert.deepEqual((await all(kv.keys('a.*'))).sort(), ['a.b', 'a.c']);
    assert.deepEqual((await all(kv.keys('*.a'))).sort(), ['b.a']);
    assert.deepEqual((await all(kv.keys())).sort(), ['a.b', 'a.c', 'b.a', 'x']);
    const empty = await new Kvm(nc).create('EMPTY');
    assert.deepEqual(await all(empty.keys()), []);
  });
});

test('watch: initial values, then live updates, deletes and purges', async () => {
  // GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamDeliverLastPerSubjectWithKV", "through the KV watcher (last-per-subject consumer) rather than a raw consumer")
  await withServer(async ({ nc }) => {
    const kv = await new Kvm(nc).create('W', { history: 5 });
    await kv.put('a', '1');
    await kv.put('b', '1');
    await kv.put('a', '2');
    await kv.put('c.x', '1');

    const w = await kv.watch();
    const it = w[Symbol.asyncIterator]();
    const seenKeys = [];
    const next = async () => {
      let timer;
      const r = await Promise.race([
        it.next(),
        new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`watch timed out after: ${JSON.stringify(seenKeys)}`)), 5000); }),
      ]);
      clearTimeout(timer);
      assert.equal(r.done, false);
      seenKeys.push([r.value.key, r.value.revision]);
      return r.value;
    };
    // Initial: last value of each key, in revision order.
    const init = [await next(), await next(), await next()];
    assert.deepEqual(init.map((e) => [e.key, e.string(), e.revision]), [['b', '1', 2], ['a', '2', 3], ['c.x', '1', 4]]);
    assert.equal(init[2].delta, 0);
    assert.equal(init[0].isUpdate, false);

    await kv.put('b', '2');
    await kv.delete('a');
    await kv.purge('c.x');
    const live = [await next(), await next(), await next()];
    assert.deepEqual(live.map((e) => [e.key, e.operation, e.revision]), [['b', 'PUT', 5], ['a', 'DEL', 6], ['c.x', 'PURGE', 7]]);
    assert.equal(live[0].string(), '2');
    assert.equal(live[0].isUpdate, true);
    w.stop();

    // Filtered watcher, updates only.
    const w2 = await kv.watch({ key: 'c.*', include: 'updates' });
    const got = [];
    const loop = (async () => {
      for await (const e of w2) {
        got.push([e.key, e.string()]);
        if (got.length === 2) break;
      }
    })();
    // Wait until the watcher's consumer exists before publishing.
    await waitFor(async () => (await kv.status()).streamInfo.state.consumer_count >= 1, { what: 'watch consumer' });
    await kv.put('a', 'ignored');
    await kv.put('c.y', 'y1');
    await kv.put('c.x', 'x2');
    await within(loop, 5000, `filtered watcher updates (got ${JSON.stringify(got)})`);
    assert.deepEqual(got, [['c.y', 'y1'], ['c.x', 'x2']]);

    // History of all keys.
    // (revisions 1 and 4 were superseded: a's first value is still within
    // history 5, c.x's was removed by the purge)
    const hist = await all(kv.history());
    assert.deepEqual(hist.map((e) => e.revision), [1, 2, 3, 5, 6, 7, 8, 9, 10]);
  });
});

test('bucket ttl expires values; max history is enforced per key', async () => {
  // GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamMaxMsgsPerSubject", "through a KV bucket (history) with max_age")
  await withServer(async ({ nc }) => {
    const kv = await new Kvm(nc).create('TTL', { ttl: 1000, history: 3 });
    const st = await kv.status();
    assert.equal(st.ttl, 1000);
    for (let i = 1; i <= 5; i++) await kv.put('k', String(i));
    const h = await all(kv.history({ key: 'k' }));
    assert.deepEqual(h.map((e) => e.string()), ['3', '4', '5']);
    await waitFor(async () => (await kv.get('k')) === null, { timeoutMs: 10000, what: 'value to expire after the 1s ttl' });
    assert.equal((await kv.status()).values, 0);
    // The bucket is still usable.
    assert.equal(await kv.create('k', 'new'), 6);
  });
});

test('per-key marker TTL (server 2.11+)', async (t) => {
  // GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamSubjectDeleteMarkers", "through a KV bucket with markerTTL")
  await withServer(async ({ nc, is29, version }) => {
    if (is29) {
      t.skip(`server ${version} has no per-message TTL / subject delete markers`);
      return;
    }
    const kv = await new Kvm(nc).create('MT', { markerTTL: 2000, ttl: 1000 });
    await kv.put('k', 'v');
    const w = await kv.watch({ include: 'updates' });
    const [e] = await take(w, 1, 10000);
    assert.equal(e.key, 'k');
    assert.ok(e.operation === 'PURGE' || e.operation === 'DEL', `marker op ${e.operation}`);
    w.stop();
  });
});
