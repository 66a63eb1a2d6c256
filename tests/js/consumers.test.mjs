// JetStream consumers through the official nats.js client (@nats-io/jetstream):
// pull consumers (fetch, next, consume), acknowledgement kinds, redelivery,
// consumer info, ordered consumers, durables and push consumers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AckPolicy, DeliverPolicy, StorageType, JetStreamApiError } from '@nats-io/jetstream';
import { createInbox } from '@nats-io/transport-node';
import { withServer, rejects, waitFor, take, within, nsFromMs } from './server.mjs';

const td = new TextDecoder();
const STORAGES = [StorageType.Memory, StorageType.File];

async function collect(lister) {
  const out = [];
  for await (const v of lister) out.push(v);
  return out;
}

// Next message from a pull consumer; fails if none arrives in time.
async function nextMsg(consumer, expires = 3000) {
  const m = await consumer.next({ expires });
  assert.ok(m, `expected a message within ${expires}ms`);
  return m;
}

function assertSeqs(m, sseq, dseq, what = '') {
  assert.equal(m.info.streamSequence, sseq, `stream sequence ${what}`);
  assert.equal(m.info.deliverySequence, dseq, `delivery sequence ${what}`);
}

// Acks are fire-and-forget, and the server may handle the next pull request
// before it has processed them. Where the order matters, send the ack kind as a
// request: the server answers once it has processed it (the "ack ack").
async function ackSync(nc, m, kind) {
  const r = await nc.request(m.reply, kind, { timeout: 3000 });
  assert.equal(r.data.length, 0, `ack reply for ${kind}`);
}

async function fillStream(js, subj, n, body = 'Hello World!') {
  for (let i = 0; i < n; i++) await js.publish(subj, body);
}

test('pull consumer: fetch a batch, explicit acks, then next', async () => {
  // GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamWorkQueueRequestBatch", "batch via the client fetch; no check of batches split over several requests")
  for (const storage of STORAGES) {
    await withServer(async ({ js, jsm }) => {
      await jsm.streams.add({ name: 'MY_MSG_SET', subjects: ['foo', 'bar'], storage });
      await fillStream(js, 'foo', 100);
      await jsm.consumers.add('MY_MSG_SET', { durable_name: 'WQ', ack_policy: AckPolicy.Explicit });
      const c = await js.consumers.get('MY_MSG_SET', 'WQ');

      const batch = await c.fetch({ max_messages: 25, expires: 3000 });
      let i = 0;
      for await (const m of batch) {
        i++;
        assertSeqs(m, i, i);
        assert.equal(m.subject, 'foo');
        assert.equal(m.string(), 'Hello World!');
        assert.equal(m.info.deliveryCount, 1);
        assert.equal(m.redelivered, false);
        assert.equal(m.info.pending, 100 - i);
        assert.equal(await m.ackAck(), true);
      }
      assert.equal(i, 25);

      let ci = await c.info();
      assert.equal(ci.num_pending, 75);
      assert.equal(ci.num_ack_pending, 0);
      assert.equal(ci.delivered.stream_seq, 25);
      assert.equal(ci.ack_floor.stream_seq, 25);
      assert.equal(ci.ack_floor.consumer_seq, 25);

      const m = await nextMsg(c);
      assertSeqs(m, 26, 26);
      ci = await c.info();
      assert.equal(ci.num_ack_pending, 1);
      assert.equal(ci.num_pending, 74);
      m.ack();
      await waitFor(async () => (await c.info()).num_ack_pending === 0, { what: 'ack of seq 26' });
      ci = await c.info();
      assert.equal(ci.ack_floor.stream_seq, 26);
    });
  }
});

test('pull consumer: fetch with nothing pending ends at expiry with no messages', async () => {
  // GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerPullTimeout", "only checks an empty fetch returns nothing when it expires")
  await withServer(async ({ js, jsm }) => {
    await jsm.streams.add({ name: 'S', subjects: ['s'] });
    await jsm.consumers.add('S', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
    const c = await js.consumers.get('S', 'D');
    const started = Date.now();
    const batch = await c.fetch({ max_messages: 5, expires: 1000 });
    const got = [];
    for await (const m of batch) got.push(m);
    assert.equal(got.length, 0);
    assert.ok(Date.now() - started >= 900, 'fetch waited for its expiry');
    assert.equal(await c.next({ expires: 1000 }), null);
  });
});

test('pull consumer: consume() delivers everything in order and keeps pulling', async () => {
  // GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamBasicWorkQueue", "client consume loop; no per-request batch accounting")
  await withServer(async ({ js, jsm }) => {
    await jsm.streams.add({ name: 'S', subjects: ['s.*'] });
    for (let i = 1; i <= 50; i++) await js.publish(`s.${i % 3}`, String(i));
    await jsm.consumers.add('S', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
    const c = await js.consumers.get('S', 'D');
    const iter = await c.consume({ max_messages: 7 });
    const seen = [];
    const done = (async () => {
      for await (const m of iter) {
        seen.push(Number(m.string()));
        assert.equal(m.info.streamSequence, seen.length);
        m.ack();
        if (seen.length === 60) break;
      }
    })();
    await waitFor(() => seen.length === 50, { what: '50 messages consumed' });
    // New messages published while consuming are delivered too.
    for (let i = 51; i <= 60; i++) await js.publish('s.x', String(i));
    await within(done, 10000, `60 messages consumed (got ${seen.length})`);
    assert.deepEqual(seen, Array.from({ length: 60 }, (_, k) => k + 1));
    await waitFor(async () => (await c.info()).ack_floor.stream_seq === 60, { what: 'ack floor 60' });
    const ci = await c.info();
    assert.equal(ci.num_pending, 0);
    assert.equal(ci.num_ack_pending, 0);
  });
});

test('nak redelivers the same stream sequence with a new delivery sequence', async () => {
  // GO_TEST("server/jetstream_test.go", "TestJetStreamWorkQueueNakRedelivery")
  for (const storage of STORAGES) {
    await withServer(async ({ nc, js, jsm }) => {
      await jsm.streams.add({ name: 'MY_WQ', storage });
      await fillStream(js, 'MY_WQ', 10);
      const si = await jsm.streams.info('MY_WQ');
      assert.equal(si.state.messages, 10);
      await jsm.consumers.add('MY_WQ', { durable_name: 'PBO', ack_policy: AckPolicy.Explicit });
      const c = await js.consumers.get('MY_WQ', 'PBO');
      for (let i = 1; i <= 5; i++) {
        const m = await nextMsg(c);
        assertSeqs(m, i, i);
        m.ack();
      }
      const m6 = await nextMsg(c);
      assertSeqs(m6, 6, 6);
      await ackSync(nc, m6, '-NAK');
      const again = await nextMsg(c);
      assertSeqs(again, 6, 7, 'after nak');
      assert.equal(again.info.deliveryCount, 2);
      assert.equal(again.redelivered, true);
      assertSeqs(await nextMsg(c), 7, 8);
      assertSeqs(await nextMsg(c), 8, 9);

      const ci = await c.info();
      assert.equal(ci.num_redelivered, 1, 'seq 6 was redelivered and is not acked yet');
      assert.equal(ci.num_ack_pending, 3);
      assert.equal(ci.ack_floor.stream_seq, 5);
    });
  }
});

test('delivery count grows with each nak', async () => {
  // GO_TEST("server/jetstream_test.go", "TestJetStreamRedeliverCount")
  for (const storage of STORAGES) {
    await withServer(async ({ nc, js, jsm }) => {
      await jsm.streams.add({ name: 'DC', storage });
      await js.publish('DC', 'OK!');
      await jsm.consumers.add('DC', { durable_name: 'WQ', ack_policy: AckPolicy.Explicit });
      const c = await js.consumers.get('DC', 'WQ');
      for (let i = 1; i <= 10; i++) {
        const m = await nextMsg(c);
        assertSeqs(m, 1, i);
        assert.equal(m.info.deliveryCount, i);
        assert.equal(m.redelivered, i > 1);
        await ackSync(nc, m, '-NAK');
      }
      const ci = await c.info();
      assert.equal(ci.num_redelivered, 1);
      assert.equal(ci.num_ack_pending, 1);
      assert.equal(ci.delivered.consumer_seq, 10);
      assert.equal(ci.delivered.stream_seq, 1);
    });
  }
});

test('nak with a delay holds the redelivery back', async () => {
  // GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerNakThenAckFloorMove", "checks nak delay and ack floor, not the Go test's exact sequence")
  await withServer(async ({ js, jsm }) => {
    await jsm.streams.add({ name: 'S', subjects: ['s'] });
    await js.publish('s', 'one');
    await js.publish('s', 'two');
    await jsm.consumers.add('S', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
    const c = await js.consumers.get('S', 'D');
    const m1 = await nextMsg(c);
    const t0 = Date.now();
    m1.nak(1500);
    const m2 = await nextMsg(c);
    assertSeqs(m2, 2, 2, 'the undelayed message comes first');
    m2.ack();
    const again = await nextMsg(c, 5000);
    assertSeqs(again, 1, 3);
    assert.ok(Date.now() - t0 >= 1400, `redelivered after ${Date.now() - t0}ms, nak delay 1500ms`);
    await again.ackAck();
    const ci = await c.info();
    assert.equal(ci.ack_floor.stream_seq, 2);
    assert.equal(ci.num_ack_pending, 0);
  });
});

test('term stops redelivery and emits a terminated advisory', async () => {
  // GO_TEST("server/jetstream_test.go", "TestJetStreamWorkQueueTerminateDelivery")
  for (const storage of STORAGES) {
    await withServer(async ({ nc, js, jsm, is29 }) => {
      await jsm.streams.add({ name: 'MY_WQ', storage });
      // One message first, so the next pull can only be answered by the
      // ack_wait redelivery; the other 21 are published afterwards.
      await fillStream(js, 'MY_WQ', 1);
      const ackWait = 300;
      await jsm.consumers.add('MY_WQ', { durable_name: 'PBO', ack_policy: AckPolicy.Explicit, ack_wait: nsFromMs(ackWait) });
      const c = await js.consumers.get('MY_WQ', 'PBO');
      const adv = nc.subscribe('$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.>');
      await nc.flush();

      const first = await nextMsg(c);
      assertSeqs(first, 1, 1);
      // Not acked: comes back after ack_wait.
      const m = await nextMsg(c, 5000);
      assertSeqs(m, 1, 2, 'redelivered after ack_wait');
      await fillStream(js, 'MY_WQ', 21);
      // A term reason ("+TERM reason") needs server 2.10+.
      m.term(is29 ? undefined : 'with reason');
      // A term counts as an ack: nothing is pending and the ack floor moves.
      await waitFor(async () => {
        const ci = await c.info();
        return ci.num_ack_pending === 0 && ci.ack_floor.stream_seq === 1;
      }, { what: 'term to be processed' });
      assertSeqs(await nextMsg(c), 2, 3, 'terminated message is not redelivered');

      const [am] = await take(adv, 1, 5000);
      const a = JSON.parse(td.decode(am.data));
      assert.equal(a.type, 'io.nats.jetstream.advisory.v1.terminated');
      assert.equal(a.stream, 'MY_WQ');
      assert.equal(a.consumer, 'PBO');
      assert.equal(a.stream_seq, 1);
      assert.equal(a.consumer_seq, 2);
      assert.equal(a.deliveries, 2);
      if (!is29) assert.equal(a.reason, 'with reason');
      adv.unsubscribe();
    });
  }
});

test('working() extends the ack deadline', async () => {
  // GO_TEST("server/jetstream_test.go", "TestJetStreamWorkQueueWorkingIndicator")
  for (const storage of STORAGES) {
    await withServer(async ({ js, jsm }) => {
      await jsm.streams.add({ name: 'MY_WQ', storage });
      await fillStream(js, 'MY_WQ', 1);
      const ackWait = 400;
      await jsm.consumers.add('MY_WQ', { durable_name: 'PBO', ack_policy: AckPolicy.Explicit, ack_wait: nsFromMs(ackWait) });
      const c = await js.consumers.get('MY_WQ', 'PBO');

      assertSeqs(await nextMsg(c), 1, 1);
      const m = await nextMsg(c, 5000);
      assertSeqs(m, 1, 2, 'redelivered after ack_wait');
      await fillStream(js, 'MY_WQ', 1);

      // Work on it for 3 x ack_wait, signalling progress every ack_wait/5.
      const until = Date.now() + 3 * ackWait;
      while (Date.now() < until) {
        m.working();
        await new Promise((r) => setTimeout(r, ackWait / 5));
      }
      const m2 = await nextMsg(c);
      assertSeqs(m2, 2, 3, 'message 1 was kept in progress');
      m2.working();
      // Message 1 (no longer signalled) comes back first, then 2.
      const r1 = await nextMsg(c, 5000);
      assertSeqs(r1, 1, 4);
      r1.ack();
      assertSeqs(await nextMsg(c, 5000), 2, 5);
    });
  }
});

test('unacknowledged messages are redelivered after ack_wait', async () => {
  // GO_TEST("server/jetstream_test.go", "TestJetStreamWorkQueueAckWaitRedelivery")
  for (const storage of STORAGES) {
    await withServer(async ({ js, jsm }) => {
      await jsm.streams.add({ name: 'MY_WQ', storage });
      const toSend = 100;
      await fillStream(js, 'MY_WQ', toSend);
      await jsm.consumers.add('MY_WQ', { durable_name: 'PBO', ack_policy: AckPolicy.Explicit, ack_wait: nsFromMs(500) });
      const c = await js.consumers.get('MY_WQ', 'PBO');

      const firstRound = await take(await c.fetch({ max_messages: toSend, expires: 5000 }), toSend, 6000);
      assert.equal(firstRound.length, toSend);
      let si = await jsm.streams.info('MY_WQ');
      assert.equal(si.state.messages, toSend);
      let ci = await c.info();
      assert.equal(ci.num_ack_pending, toSend);
      assert.equal(ci.num_pending, 0);

      let i = 0;
      const deadline = Date.now() + 20000;
      while (i < toSend) {
        assert.ok(Date.now() < deadline, `redeliveries stalled at ${i}/${toSend}`);
        const batch = await c.fetch({ max_messages: toSend - i, expires: 5000 });
        for await (const m of batch) {
          i++;
          assertSeqs(m, i, toSend + i, 'redelivery');
          assert.notEqual(m.info.deliveryCount, 1);
          assert.equal(m.redelivered, true);
          assert.equal(await m.ackAck(), true);
        }
      }
      ci = await c.info();
      assert.equal(ci.num_ack_pending, 0);
      assert.equal(ci.ack_floor.stream_seq, toSend);
      si = await jsm.streams.info('MY_WQ');
      assert.equal(si.state.messages, toSend, 'limits stream keeps acked messages');
    });
  }
});

test('max_deliver caps redeliveries', async () => {
  // GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerMaxDeliveries", "pull consumer instead of push; checks deliveries and num_redelivered")
  await withServer(async ({ nc, js, jsm }) => {
    await jsm.streams.add({ name: 'MY_WQ' });
    await js.publish('MY_WQ', 'Hello World!');
    await jsm.consumers.add('MY_WQ', { durable_name: 'D', ack_policy: AckPolicy.Explicit, max_deliver: 5, ack_wait: nsFromMs(60000) });
    const c = await js.consumers.get('MY_WQ', 'D');
    for (let i = 1; i <= 5; i++) {
      const m = await nextMsg(c);
      assert.equal(m.info.deliveryCount, i);
      await ackSync(nc, m, '-NAK');
    }
    assert.equal(await c.next({ expires: 1500 }), null, 'no sixth delivery');
    const ci = await c.info();
    assert.equal(ci.delivered.consumer_seq, 5);
  });
});

test('consumer info num_pending and num_ack_pending track the stream', async () => {
  // GO_TEST("server/jetstream_consumer_test.go", "TestJetStreamConsumerInfoNumPending")
  await withServer(async (ctx) => {
    await ctx.jsm.streams.add({ name: 'LIMITS', subjects: ['js.in.limits'], max_msgs: 100 });
    await ctx.jsm.consumers.add('LIMITS', { name: 'PULL', ack_policy: AckPolicy.Explicit });
    await fillStream(ctx.js, 'js.in.limits', 1000, 'x');
    let ci = await ctx.jsm.consumers.info('LIMITS', 'PULL');
    assert.equal(ci.num_pending, 100);
    assert.equal(ci.num_ack_pending, 0);

    await ctx.restart();
    ci = await ctx.jsm.consumers.info('LIMITS', 'PULL');
    assert.equal(ci.num_pending, 100);

    const c = await ctx.js.consumers.get('LIMITS', 'PULL');
    const got = await take(await c.fetch({ max_messages: 10, expires: 3000 }), 10);
    assert.equal(got[0].info.streamSequence, 901);
    ci = await c.info();
    assert.equal(ci.num_pending, 90);
    assert.equal(ci.num_ack_pending, 10);
    for (const m of got.slice(0, 4)) await m.ackAck();
    ci = await c.info();
    assert.equal(ci.num_ack_pending, 6);
    assert.equal(ci.num_pending, 90);
    assert.equal(ci.ack_floor.stream_seq, 904);
  });
});

test('ack replies are confirmed for every ack kind (ackAck)', async () => {
  // GO_TEST("server/jetstream_consumer_test.go", "TestJetStreamConsumerAckAck")
  await withServer(async ({ nc, js, jsm }) => {
    await jsm.streams.add({ name: 'ACK-ACK', storage: StorageType.Memory });
    await fillStream(js, 'ACK-ACK', 4);
    await jsm.consumers.add('ACK-ACK', { durable_name: 'worker', ack_policy: AckPolicy.Explicit });
    const c = await js.consumers.get('ACK-ACK', 'worker');
    for (const kind of ['+ACK', '-NAK', '+WPI', '+TERM']) {
      const m = await nextMsg(c);
      const r = await nc.request(m.reply, kind, { timeout: 2000 });
      assert.equal(r.data.length, 0, `empty ack-ack for ${kind}`);
    }
    const m = await nextMsg(c);
    assert.equal(await m.ackAck(), true);
  });
});

test('ordered consumer delivers in stream order and resumes after its consumer is deleted', async () => {
  // (client-side feature: no single Go test)
  await withServer(async ({ js, jsm }) => {
    await jsm.streams.add({ name: 'ORD', subjects: ['o.>'] });
    for (let i = 1; i <= 20; i++) await js.publish(`o.${i % 4}`, String(i));
    const c = await js.consumers.get('ORD');
    let ci = await c.info(true);
    assert.equal(ci.config.ack_policy, 'none');
    assert.equal(ci.config.mem_storage, true);
    assert.equal(ci.config.num_replicas, 1);

    // Short pulls (heartbeat = expires/2) so a lost consumer is noticed quickly.
    const iter = await c.consume({ expires: 2000 });
    const seen = [];
    const loop = (async () => {
      for await (const m of iter) {
        seen.push(m.info.streamSequence);
        assert.equal(Number(m.string()), m.info.streamSequence);
        if (seen.length === 30) break;
      }
    })();
    await waitFor(() => seen.length === 20, { what: '20 ordered messages' });
    // Delete the server-side consumer under it; the client recreates it.
    const names = (await collect(jsm.consumers.list('ORD'))).map((x) => x.name);
    assert.equal(names.length, 1);
    await jsm.consumers.delete('ORD', names[0]);
    for (let i = 21; i <= 30; i++) await js.publish('o.x', String(i));
    await within(loop, 15000, 'ordered consumer to deliver 30 messages');
    assert.deepEqual(seen, Array.from({ length: 30 }, (_, k) => k + 1));
    ci = await jsm.streams.info('ORD');
    assert.equal(ci.state.consumer_count, 1);
  });
});

test('ordered consumer with a filter and a start sequence', async () => {
  await withServer(async ({ js, jsm }) => {
    await jsm.streams.add({ name: 'ORD', subjects: ['o.>'] });
    for (let i = 1; i <= 20; i++) await js.publish(`o.${i % 2 ? 'odd' : 'even'}`, String(i));
    const c = await js.consumers.get('ORD', { filter_subjects: 'o.even', deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 11 });
    const msgs = await take(await c.fetch({ max_messages: 5, expires: 3000 }), 5);
    assert.deepEqual(msgs.map((m) => m.info.streamSequence), [12, 14, 16, 18, 20]);
    assert.deepEqual(msgs.map((m) => m.subject), Array(5).fill('o.even'));
  });
});

test('durable consumer: listed, survives restart, deleted', async () => {
  // GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerSurvivesRestart", "checks config and delivered state after restart")
  await withServer(async (ctx) => {
    await ctx.jsm.streams.add({ name: 'TEST', subjects: ['events.>'], storage: StorageType.File });
    const ci0 = await ctx.jsm.consumers.add('TEST', { durable_name: 'dur', filter_subject: 'events.>', ack_policy: AckPolicy.Explicit, description: 'my durable' });
    assert.equal(ci0.name, 'dur');
    assert.equal(ci0.config.durable_name, 'dur');
    await ctx.jsm.consumers.add('TEST', { name: 'other', ack_policy: AckPolicy.None, inactive_threshold: nsFromMs(3600 * 1000) });
    for (let i = 0; i < 5; i++) await ctx.js.publish(`events.${i}`, 'hello');

    const c = await ctx.js.consumers.get('TEST', 'dur');
    const got = await take(await c.fetch({ max_messages: 3, expires: 3000 }), 3);
    for (const m of got) await m.ackAck();

    let list = await collect(ctx.jsm.consumers.list('TEST'));
    assert.deepEqual(list.map((x) => x.name).sort(), ['dur', 'other']);
    let si = await ctx.jsm.streams.info('TEST');
    assert.equal(si.state.consumer_count, 2);

    await ctx.restart();
    const ci = await ctx.jsm.consumers.info('TEST', 'dur');
    assert.equal(ci.config.description, 'my durable');
    assert.equal(ci.config.filter_subject, 'events.>');
    assert.equal(ci.delivered.stream_seq, 3);
    assert.equal(ci.ack_floor.stream_seq, 3);
    assert.equal(ci.num_pending, 2);
    const c2 = await ctx.js.consumers.get('TEST', 'dur');
    assertSeqs(await nextMsg(c2), 4, 4, 'after restart');

    assert.equal(await ctx.jsm.consumers.delete('TEST', 'dur'), true);
    list = await collect(ctx.jsm.consumers.list('TEST'));
    assert.deepEqual(list.map((x) => x.name), ['other']);
    const err = await rejects(ctx.jsm.consumers.info('TEST', 'dur'), 'info of deleted consumer');
    assert.ok(err instanceof JetStreamApiError, err.message);
    assert.equal(err.code, 10014);
    assert.equal(err.status, 404);
    const err2 = await rejects(ctx.jsm.consumers.delete('TEST', 'dur'), 'delete twice');
    assert.equal(err2.code, 10014);
    si = await ctx.jsm.streams.info('TEST');
    assert.equal(si.state.consumer_count, 1);
  });
});

test('ephemeral consumer with inactive_threshold is removed when unused', async () => {
  // GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamEphemeralPullConsumers", "threshold set by config, no check that pending pulls keep it alive")
  await withServer(async ({ jsm }) => {
    await jsm.streams.add({ name: 'EC', storage: StorageType.Memory });
    const ci = await jsm.consumers.add('EC', { ack_policy: AckPolicy.Explicit, inactive_threshold: nsFromMs(300) });
    assert.ok(ci.name.length > 0, 'server generated a name');
    assert.equal(ci.config.durable_name, undefined);
    await waitFor(async () => {
      try {
        await jsm.consumers.info('EC', ci.name);
        return false;
      } catch (err) {
        return err.code === 10014;
      }
    }, { timeoutMs: 10000, what: 'ephemeral consumer to be removed' });
  });
});

test('consumer create is idempotent and refuses a conflicting config', async () => {
  // GO_TEST_PARTIAL("server/jetstream_consumer_test.go", "TestJetStreamConsumerCreate", "checks idempotent create and a refused change only")
  await withServer(async ({ jsm }) => {
    await jsm.streams.add({ name: 'S', subjects: ['a', 'b'] });
    const cfg = { durable_name: 'D', ack_policy: AckPolicy.Explicit, filter_subject: 'a' };
    const a = await jsm.consumers.add('S', cfg);
    const b = await jsm.consumers.add('S', cfg);
    assert.equal(a.created, b.created);
    // deliver_policy can not be changed on an existing consumer.
    await rejects(jsm.consumers.add('S', { ...cfg, deliver_policy: DeliverPolicy.New }), 'conflicting create');
    // An update of a mutable field works.
    const u = await jsm.consumers.update('S', 'D', { description: 'changed', max_ack_pending: 10 });
    assert.equal(u.config.description, 'changed');
    assert.equal(u.config.max_ack_pending, 10);
    // Consumer on a missing stream.
    const err = await rejects(jsm.consumers.add('NOPE', cfg), 'consumer on missing stream');
    assert.equal(err.code, 10059);
  });
});

test('push consumer delivers to its deliver subject', async () => {
  // GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamBasicDeliverSubject", "client push consumer; no check of delivery to a late subscriber")
  await withServer(async ({ nc, js, jsm }) => {
    await jsm.streams.add({ name: 'MSET', subjects: ['foo.*'] });
    for (let i = 1; i <= 10; i++) await js.publish('foo.x', String(i));
    const deliver = createInbox();
    await jsm.consumers.add('MSET', { durable_name: 'PUSH', deliver_subject: deliver, ack_policy: AckPolicy.Explicit, idle_heartbeat: nsFromMs(1000), flow_control: true });
    const pc = await js.consumers.getPushConsumer('MSET', 'PUSH');
    assert.equal(pc.isPushConsumer(), true);
    const iter = await pc.consume();
    const seen = [];
    await within((async () => {
      for await (const m of iter) {
        seen.push(m.info.streamSequence);
        assert.equal(m.string(), String(m.info.streamSequence));
        m.ack();
        if (seen.length === 10) break;
      }
    })(), 10000, 'push consumer to deliver 10 messages');
    assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await waitFor(async () => (await jsm.consumers.info('MSET', 'PUSH')).num_ack_pending === 0, { what: 'push acks' });
    const ci = await jsm.consumers.info('MSET', 'PUSH');
    assert.equal(ci.config.deliver_subject, deliver);
    assert.equal(ci.delivered.stream_seq, 10);

    // A plain subscription on a deliver subject sees raw deliveries with JS reply subjects.
    const raw = createInbox();
    const sub = nc.subscribe(raw);
    await jsm.consumers.add('MSET', { name: 'RAW', deliver_subject: raw, ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.Last });
    const [m] = await take(sub, 1, 5000);
    // Delivered on the deliver subject's subscription with the original subject.
    assert.equal(m.subject, 'foo.x');
    assert.equal(m.sid, sub.getID());
    assert.equal(td.decode(m.data), '10');
    assert.match(m.reply, /^\$JS\.ACK\.MSET\.RAW\.1\.10\.1\./);
    sub.unsubscribe();
  });
});

test('ordered push consumer', async () => {
  await withServer(async ({ js, jsm }) => {
    await jsm.streams.add({ name: 'S', subjects: ['s.>'] });
    for (let i = 1; i <= 15; i++) await js.publish('s.a', String(i));
    const pc = await js.consumers.getPushConsumer('S');
    const iter = await pc.consume();
    const seen = await take(iter, 15, 5000);
    assert.deepEqual(seen.map((m) => m.info.streamSequence), Array.from({ length: 15 }, (_, k) => k + 1));
    await iter.close();
  });
});

test('work queue stream removes acked messages and allows one consumer per subject', async () => {
  // GO_TEST_PARTIAL("server/jetstream_test.go", "TestJetStreamWorkQueueRetentionStream", "no check of every refused consumer kind")
  await withServer(async ({ js, jsm }) => {
    await jsm.streams.add({ name: 'WQ', subjects: ['wq.>'], retention: 'workqueue' });
    for (let i = 0; i < 10; i++) await js.publish('wq.a', String(i));
    await jsm.consumers.add('WQ', { durable_name: 'A', ack_policy: AckPolicy.Explicit, filter_subject: 'wq.a' });
    // A second unfiltered consumer overlaps and is refused.
    const err = await rejects(jsm.consumers.add('WQ', { durable_name: 'B', ack_policy: AckPolicy.Explicit }), 'overlapping work queue consumer');
    assert.ok(err instanceof JetStreamApiError, err.message);
    const c = await js.consumers.get('WQ', 'A');
    const msgs = await take(await c.fetch({ max_messages: 10, expires: 3000 }), 10);
    for (const m of msgs.slice(0, 6)) await m.ackAck();
    await waitFor(async () => (await jsm.streams.info('WQ')).state.messages === 4, { what: 'acked messages removed' });
    const si = await jsm.streams.info('WQ');
    assert.equal(si.state.first_seq, 7);
  });
});
