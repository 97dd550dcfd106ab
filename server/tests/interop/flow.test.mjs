// The main flow of wire protocol v1 (docs/protocol.md) with the official socket.io client,
// run once over WebSocket only and once over HTTP long-polling only. The steps share state and
// run in order; every wait is bounded.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import {
  PASSWORD,
  TRANSPORTS,
  api,
  closeAll,
  connect,
  connectRefused,
  login,
  logout,
  newClientId,
  nextDisconnect,
  nextEvent,
  ok,
  recordEvents,
  register,
  request,
  seenOrNext,
  startRelay,
  uniqueName,
} from "./relay.mjs";

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]00:00)$/;

function assertMessage(m, { room_id, seq, sender, body, client_id }) {
  assert.equal(typeof m.id, "string");
  assert.ok(m.id.length > 0);
  assert.equal(m.room_id, room_id);
  assert.equal(m.seq, seq);
  assert.equal(m.sender, sender);
  assert.equal(m.body, body);
  assert.equal(m.client_id, client_id);
  assert.match(m.sent_at, RFC3339_UTC);
}

const byName = (a, b) => a.toLowerCase().localeCompare(b.toLowerCase());
const seqsOf = (messages) => messages.map((m) => m.seq);

for (const { label, transports } of TRANSPORTS) {
  describe(`protocol v1 over ${label}`, { timeout: 50_000 }, () => {
    let relay;
    let url;
    const names = { alice: uniqueName("alice"), bob: uniqueName("bob") };
    let alice; // {user, token, username}
    let bob;
    let aliceSocket;
    let bobSocket;
    let aliceLog; // every event aliceSocket received, in order
    let bobLog;
    let room; // the group room alice creates, as alice saw it in the ack
    let dm;
    const sent = []; // acked messages of `room`, in seq order
    const extraSockets = [];

    const send = async (socket, room_id, body, client_id = newClientId()) =>
      (await ok(socket, "message:send", { room_id, client_id, body })).message;

    before(async () => {
      relay = await startRelay();
      url = relay.url;
    });

    after(async () => {
      closeAll(aliceSocket, bobSocket, ...extraSockets);
      await relay?.stop();
    });

    it("registers alice and bob; both connect with the chosen transport", async () => {
      const health = await api(url, "/healthz", { method: "GET" });
      assert.equal(health.status, 200);
      assert.equal(health.body.status, "ok");
      assert.equal(typeof health.body.version, "string");

      [alice, bob] = await Promise.all([register(url, names.alice), register(url, names.bob)]);
      assert.equal(alice.user.username, names.alice);
      assert.equal(typeof alice.user.id, "string");
      assert.equal(typeof alice.token, "string");
      assert.notEqual(alice.user.id, bob.user.id);

      [aliceSocket, bobSocket] = await Promise.all([
        connect(url, alice.token, transports, { setup: (s) => (aliceLog = recordEvents(s)) }),
        connect(url, bob.token, transports, { setup: (s) => (bobLog = recordEvents(s)) }),
      ]);
      assert.equal(aliceSocket.io.engine.transport.name, transports[0]);
      assert.equal(bobSocket.io.engine.transport.name, transports[0]);
    });

    it("both see general in rooms:list", async () => {
      for (const [socket, me] of [[aliceSocket, alice], [bobSocket, bob]]) {
        const ack = await ok(socket, "rooms:list", {});
        const general = ack.rooms.find((r) => r.id === "general");
        assert.ok(general, `general missing from ${JSON.stringify(ack.rooms)}`);
        assert.equal(general.kind, "group");
        assert.equal(typeof general.name, "string");
        assert.ok(general.members.includes(me.username), "a user is a member of general");
        assert.equal(general.last_seq, 0);
        assert.equal(general.read_seq, 0);
      }
    });

    it("room:create: the ack carries the room and bob receives a room event for it", async () => {
      const name = `Book club ${label}`;
      const bobHears = nextEvent(bobSocket, "room", (p) => p.room.name === name);
      const aliceHears = nextEvent(aliceSocket, "room", (p) => p.room.name === name);
      const ack = await ok(aliceSocket, "room:create", { name, members: [bob.username] });
      room = ack.room;
      assert.equal(typeof room.id, "string");
      assert.equal(room.name, name);
      assert.equal(room.kind, "group");
      assert.deepEqual(room.members, [alice.username, bob.username].sort(byName));
      assert.equal(room.last_seq, 0);
      assert.equal(room.read_seq, 0);
      const forBob = await bobHears;
      assert.deepEqual(forBob.room, room);
      assert.deepEqual((await aliceHears).room, room);
    });

    it("message:send: acked with seq 1 after commit; bob receives the same message", async () => {
      const client_id = newClientId();
      const body = "hello bob";
      const bobHears = nextEvent(bobSocket, "message", (p) => p.message.room_id === room.id);
      const aliceHears = nextEvent(aliceSocket, "message", (p) => p.message.room_id === room.id);
      const ack = await ok(aliceSocket, "message:send", { room_id: room.id, client_id, body });
      assert.deepEqual(Object.keys(ack).sort(), ["message", "ok"]);
      assertMessage(ack.message, { room_id: room.id, seq: 1, sender: alice.username, body, client_id });
      assert.deepEqual(await bobHears, { message: ack.message });
      // The sender's own sockets get the broadcast too (docs/protocol.md, `message`).
      assert.deepEqual(await aliceHears, { message: ack.message });
      sent.push(ack.message);
    });

    it("bob replies: seq increases by one", async () => {
      const aliceHears = nextEvent(aliceSocket, "message", (p) => p.message.room_id === room.id && p.message.seq === 2);
      const client_id = newClientId();
      const reply = await send(bobSocket, room.id, "hi alice", client_id);
      assertMessage(reply, { room_id: room.id, seq: 2, sender: bob.username, body: "hi alice", client_id });
      assert.deepEqual((await aliceHears).message, reply);
      sent.push(reply);
    });

    it("a repeated client_id returns the original message and broadcasts nothing new", async () => {
      const first = sent[0];
      const again = await ok(aliceSocket, "message:send", {
        room_id: room.id,
        client_id: first.client_id,
        body: "hello bob (retry)",
      });
      assert.deepEqual(again.message, first);
      // One key across all rooms: the same client_id aimed at general still answers the original.
      const elsewhere = await ok(aliceSocket, "message:send", {
        room_id: "general",
        client_id: first.client_id,
        body: "elsewhere",
      });
      assert.deepEqual(elsewhere.message, first);

      // Barrier: a fresh message; once bob has it, any repeat broadcast would have come before.
      const bobHears = nextEvent(bobSocket, "message", (p) => p.message.room_id === room.id && p.message.seq === 3);
      const third = await send(aliceSocket, room.id, "third");
      assert.equal(third.seq, 3);
      assert.deepEqual((await bobHears).message, third);
      sent.push(third);
      const bobSaw = bobLog.filter((e) => e.event === "message").map((e) => [e.payload.message.room_id, e.payload.message.seq]);
      assert.deepEqual(bobSaw, [[room.id, 1], [room.id, 2], [room.id, 3]]);
      const general = (await ok(bobSocket, "rooms:list", {})).rooms.find((r) => r.id === "general");
      assert.equal(general.last_seq, 0, "the repeat must not have stored anything in general");
    });

    it("typing true then false reaches bob, never alice", async () => {
      const typingOn = nextEvent(bobSocket, "typing", (p) => p.room_id === room.id && p.typing === true);
      assert.deepEqual(await ok(aliceSocket, "typing", { room_id: room.id, typing: true }), { ok: true });
      assert.deepEqual(await typingOn, { room_id: room.id, user: alice.username, typing: true });

      const typingOff = nextEvent(bobSocket, "typing", (p) => p.room_id === room.id && p.typing === false);
      assert.deepEqual(await ok(aliceSocket, "typing", { room_id: room.id, typing: false }), { ok: true });
      assert.deepEqual(await typingOff, { room_id: room.id, user: alice.username, typing: false });

      // Barrier: bob's next message reaches alice after any typing echo would have.
      const aliceHears = nextEvent(aliceSocket, "message", (p) => p.message.room_id === room.id && p.message.seq === 4);
      const fourth = await send(bobSocket, room.id, "fourth");
      assert.equal(fourth.seq, 4);
      await aliceHears;
      sent.push(fourth);
      assert.deepEqual(aliceLog.filter((e) => e.event === "typing"), [], "the typist got its own typing event");
    });

    it("read: alice gets a receipt; the position only moves forward and is clamped", async () => {
      let receipt = nextEvent(aliceSocket, "receipt", (p) => p.room_id === room.id && p.user === bob.username);
      assert.deepEqual(await ok(bobSocket, "read", { room_id: room.id, seq: 2 }), { ok: true });
      assert.deepEqual(await receipt, { room_id: room.id, user: bob.username, seq: 2 });

      receipt = nextEvent(aliceSocket, "receipt", (p) => p.room_id === room.id && p.user === bob.username);
      await ok(bobSocket, "read", { room_id: room.id, seq: 1_000 });
      assert.deepEqual(await receipt, { room_id: room.id, user: bob.username, seq: 4 }, "clamped to last_seq");

      const mine = (await ok(bobSocket, "rooms:list", {})).rooms.find((r) => r.id === room.id);
      assert.equal(mine.read_seq, 4);
      assert.equal(mine.last_seq, 4);
      const hers = (await ok(aliceSocket, "rooms:list", {})).rooms.find((r) => r.id === room.id);
      assert.equal(hers.read_seq, 0, "read_seq is per member");
    });

    it("history pages backwards with before_seq/limit, oldest first", async () => {
      const newest = await ok(bobSocket, "history", { room_id: room.id, limit: 2 });
      assert.deepEqual(newest.messages, sent.slice(2, 4));
      const older = await ok(bobSocket, "history", { room_id: room.id, before_seq: 3, limit: 2 });
      assert.deepEqual(older.messages, sent.slice(0, 2));
      const none = await ok(bobSocket, "history", { room_id: room.id, before_seq: 1 });
      assert.deepEqual(none.messages, []);
      const all = await ok(aliceSocket, "history", { room_id: room.id });
      assert.deepEqual(seqsOf(all.messages), [1, 2, 3, 4]);
      assert.deepEqual(all.messages, sent);
      const capped = await ok(aliceSocket, "history", { room_id: room.id, limit: 1_000 });
      assert.deepEqual(seqsOf(capped.messages), [1, 2, 3, 4], "a large limit is capped, not refused");
    });

    it("dm:open gives the same direct room every time, whoever opens it", async () => {
      const bobHears = nextEvent(bobSocket, "room", (p) => p.room.kind === "direct");
      const first = await ok(aliceSocket, "dm:open", { username: bob.username });
      dm = first.room;
      assert.equal(dm.kind, "direct");
      assert.deepEqual(dm.members, [alice.username, bob.username].sort(byName));
      assert.equal((await bobHears).room.id, dm.id);
      const second = await ok(aliceSocket, "dm:open", { username: bob.username });
      assert.equal(second.room.id, dm.id);
      const fromBob = await ok(bobSocket, "dm:open", { username: alice.username });
      assert.equal(fromBob.room.id, dm.id);
    });

    it("presence: alice sees bob go offline", async () => {
      const offline = nextEvent(aliceSocket, "presence", (p) => p.user === bob.username && p.online === false);
      bobSocket.close();
      const p = await offline;
      assert.equal(p.online, false);
      assert.equal(typeof p.last_seen, "string");
      assert.match(p.last_seen, RFC3339_UTC);
    });

    it("presence and sync: bob comes back online and catches up on what he missed", async () => {
      // While bob is away: two messages in the group room, one in the DM.
      const missed = [
        await send(aliceSocket, room.id, "while you were away 1"),
        await send(aliceSocket, room.id, "while you were away 2"),
      ];
      const dmMissed = await send(aliceSocket, dm.id, "psst");
      assert.deepEqual(seqsOf(missed), [5, 6]);
      assert.equal(dmMissed.seq, 1);

      const online = nextEvent(aliceSocket, "presence", (p) => p.user === bob.username && p.online === true);
      bobSocket = await connect(url, bob.token, transports, { setup: (s) => (bobLog = recordEvents(s)) });
      const p = await online;
      assert.equal(typeof p.last_seen, "string", "while online, last_seen is when they came online");
      // The snapshot: bob's new socket hears that alice (a co-member outside general) is online.
      const snapshot = await seenOrNext(bobSocket, bobLog, "presence", (q) => q.user === alice.username);
      assert.equal(snapshot.online, true);
      assert.equal(typeof snapshot.last_seen, "string");

      const cursors = { [room.id]: 4, [dm.id]: 0, general: 0 };
      const synced = await ok(bobSocket, "sync", { cursors });
      assert.equal(synced.more, false);
      const expected = [...missed, dmMissed].sort((a, b) =>
        a.room_id < b.room_id ? -1 : a.room_id > b.room_id ? 1 : a.seq - b.seq,
      );
      assert.deepEqual(synced.messages, expected, "ordered by room id, then seq");
      const roomIds = synced.rooms.map((r) => r.id).sort();
      assert.deepEqual(roomIds, ["general", room.id, dm.id].sort());
      const syncedRoom = synced.rooms.find((r) => r.id === room.id);
      assert.equal(syncedRoom.last_seq, 6);
      assert.equal(syncedRoom.read_seq, 4);

      // A room absent from cursors is listed with its last_seq, but its messages are not sent.
      const partial = await ok(bobSocket, "sync", { cursors: { [room.id]: 6 } });
      assert.deepEqual(partial.messages, []);
      assert.equal(partial.more, false);
      assert.equal(partial.rooms.find((r) => r.id === dm.id).last_seq, 1);
      sent.push(...missed);
    });

    it("bad requests get error acks and the connection stays up", async () => {
      const codeOf = async (event, payload) => {
        const ack = await request(bobSocket, event, payload);
        assert.equal(ack.ok, false, `${event} ${JSON.stringify(payload)} should be refused`);
        assert.equal(typeof ack.error.message, "string");
        return ack.error.code;
      };
      assert.equal(await codeOf("message:send", { room_id: room.id, client_id: newClientId(), body: 123 }), "invalid");
      assert.equal(await codeOf("message:send", { room_id: room.id, client_id: newClientId(), body: "x".repeat(4_001) }), "too_large");
      assert.equal(await codeOf("message:send", { room_id: room.id, client_id: newClientId(), body: "   " }), "invalid");

      // Characters are Unicode scalar values: 4,000 emoji (8,000 UTF-16 units) are within the limit.
      const emoji = "😀".repeat(4_000);
      const big = await send(bobSocket, room.id, emoji);
      assert.equal(big.body, emoji);
      assert.equal(big.seq, 7);

      const solo = (await ok(aliceSocket, "room:create", { name: "alice only", members: [] })).room;
      assert.equal(await codeOf("message:send", { room_id: solo.id, client_id: newClientId(), body: "let me in" }), "forbidden");
      assert.equal(await codeOf("history", { room_id: solo.id }), "forbidden");
      assert.equal(await codeOf("typing", { room_id: solo.id, typing: true }), "forbidden");
      assert.equal(await codeOf("no:such:event", {}), "invalid");
      assert.equal(await codeOf("room:leave", { room_id: "general" }), "forbidden");
      assert.equal(await codeOf("dm:open", { username: uniqueName("ghost") }), "not_found");

      assert.ok(bobSocket.connected);
      const still = await ok(bobSocket, "rooms:list", {});
      assert.ok(!still.rooms.some((r) => r.id === solo.id));
    });

    it("membership with consent: user:block, blocks:list, user:unblock, room:remove, room:removed", async () => {
      const club = (await ok(aliceSocket, "room:create", { name: "consent club", members: [bob.username] })).room;
      const blocked = await ok(bobSocket, "user:block", { username: alice.username });
      assert.deepEqual(blocked.blocked, [alice.username]);
      assert.deepEqual((await ok(bobSocket, "blocks:list", {})).blocked, [alice.username]);
      const trap = await request(aliceSocket, "room:create", { name: "trap", members: [bob.username] });
      assert.equal(trap.ok, false);
      assert.equal(trap.error.code, "forbidden");
      assert.ok(!trap.error.message.includes("block"), "a block is not told to the blocked");
      assert.deepEqual((await ok(bobSocket, "user:unblock", { username: alice.username })).blocked, []);

      const removed = nextEvent(bobSocket, "room:removed", (e) => e.room_id === club.id);
      const after = await ok(aliceSocket, "room:remove", { room_id: club.id, username: bob.username });
      assert.deepEqual(after.room.members, [alice.username]);
      assert.deepEqual(await removed, { room_id: club.id });
      const back = await request(aliceSocket, "room:invite", { room_id: club.id, username: bob.username });
      assert.equal(back.ok, false);
      assert.equal(back.error.code, "forbidden");
    });

    it("connect without a token or with a bad one is refused with unauthorized", async () => {
      assert.equal(await connectRefused(url, undefined, transports), "unauthorized");
      assert.equal(await connectRefused(url, {}, transports), "unauthorized");
      assert.equal(await connectRefused(url, { token: "not-a-token" }, transports), "unauthorized");
      assert.equal(await connectRefused(url, { token: 42 }, transports), "unauthorized");
    });

    it("logout: 204, that session's live socket is disconnected and its token refused", async () => {
      const res = await login(url, alice.username);
      assert.equal(res.status, 200);
      assert.equal(res.body.user.username, alice.username);
      assert.equal(res.body.user.id, alice.user.id);
      const token = res.body.token;
      assert.notEqual(token, alice.token);

      const second = await connect(url, token, transports);
      extraSockets.push(second);
      const disconnected = nextDisconnect(second);
      const out = await logout(url, token);
      assert.equal(out.status, 204);
      assert.equal(out.text, "");
      assert.equal(await disconnected, "io server disconnect");

      // The other session of the same user is untouched.
      assert.ok(aliceSocket.connected);
      await ok(aliceSocket, "rooms:list", {});

      assert.equal(await connectRefused(url, { token }, transports), "unauthorized");
      const again = await logout(url, token);
      assert.equal(again.status, 401);
      assert.equal(again.body.error.code, "unauthorized");
    });

    it("register refuses a taken name (ignoring case) with 409 and a bad one with 400", async () => {
      const taken = await api(url, "/api/register", {
        body: { username: alice.username.toUpperCase(), password: PASSWORD },
      });
      assert.equal(taken.status, 409);
      assert.equal(taken.body.error.code, "invalid");
      const bad = await api(url, "/api/register", { body: { username: "a b", password: PASSWORD } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, "invalid");
      const short = await api(url, "/api/register", { body: { username: uniqueName("x"), password: "short" } });
      assert.equal(short.status, 400);
      assert.equal(short.body.error.code, "invalid");
    });

    it("login: wrong password and unknown user get the same 401", async () => {
      const wrong = await login(url, alice.username, "not the password");
      const unknown = await login(url, uniqueName("nobody"), "not the password");
      assert.equal(wrong.status, 401);
      assert.equal(unknown.status, 401);
      assert.equal(wrong.body.error.code, "unauthorized");
      assert.deepEqual(wrong.body, unknown.body);
      assert.equal(wrong.text, unknown.text);
    });
  });
}
