// Issue 17 with the official socket.io client: two relay nodes on PostgreSQL and Redis with the
// shipped nginx site in front (started by natter-testkit's `natter-cluster`). Clients on
// different nodes chat (room, typing, message, receipt), once per transport; then a client
// through nginx — long-polling only, then WebSocket only — completes its handshake, sends and
// receives, with a peer connected straight to each node so one of them is on the other node.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import {
  TRANSPORTS,
  closeAll,
  connect,
  newClientId,
  nextEvent,
  ok,
  recordEvents,
  register,
  seenOrNext,
  startCluster,
  uniqueName,
} from "./relay.mjs";

describe("official clients on two relay nodes behind nginx", { timeout: 240_000 }, () => {
  let cluster;
  const sockets = [];
  const connectAt = async (...args) => {
    const socket = await connect(...args);
    sockets.push(socket);
    return socket;
  };

  before(async () => {
    cluster = await startCluster();
  });

  after(async () => {
    closeAll(...sockets);
    await cluster?.stop();
  });

  for (const { label, transports } of TRANSPORTS) {
    it(`${label}: a client on each node: room, typing, message and receipt cross nodes`, async () => {
      const [a, b] = cluster.nodes;
      // Registered through different nodes: one database.
      const [carol, dave] = await Promise.all([register(a, uniqueName("carol")), register(b, uniqueName("dave"))]);
      let daveLog;
      const carolSocket = await connectAt(a, carol.token, transports);
      const daveSocket = await connectAt(b, dave.token, transports, { setup: (s) => (daveLog = recordEvents(s)) });

      // A room made on node a joins dave's socket on node b.
      const name = `across ${label}`;
      const daveSeesRoom = nextEvent(daveSocket, "room", (p) => p.room.name === name);
      const { room } = await ok(carolSocket, "room:create", { name, members: [dave.username] });
      assert.equal((await daveSeesRoom).room.id, room.id);

      const daveSeesTyping = nextEvent(daveSocket, "typing", (p) => p.room_id === room.id);
      await ok(carolSocket, "typing", { room_id: room.id, typing: true });
      assert.deepEqual(await daveSeesTyping, { room_id: room.id, user: carol.username, typing: true });

      const daveGets = nextEvent(daveSocket, "message", (p) => p.message.room_id === room.id);
      const sent = (await ok(carolSocket, "message:send", {
        room_id: room.id,
        client_id: newClientId(),
        body: `from node a over ${label}`,
      })).message;
      assert.equal(sent.seq, 1);
      assert.deepEqual((await daveGets).message, sent);

      const carolSeesReceipt = nextEvent(carolSocket, "receipt", (p) => p.room_id === room.id);
      await ok(daveSocket, "read", { room_id: room.id, seq: sent.seq });
      assert.deepEqual(await carolSeesReceipt, { room_id: room.id, user: dave.username, seq: 1 });

      const carolGets = nextEvent(carolSocket, "message", (p) => p.message.room_id === room.id);
      const answer = (await ok(daveSocket, "message:send", {
        room_id: room.id,
        client_id: newClientId(),
        body: `from node b over ${label}`,
      })).message;
      assert.equal(answer.seq, 2);
      assert.deepEqual((await carolGets).message, answer);

      // dave's own copy of his answer comes through his node's feed, maybe after carol's.
      await seenOrNext(daveSocket, daveLog, "message", (p) => p.message.room_id === room.id && p.message.seq === 2);
      const inRoom = daveLog.filter((e) => e.event === "message" && e.payload.message.room_id === room.id);
      assert.deepEqual(inRoom.map((e) => e.payload.message.seq), [1, 2], "dave saw each message once, in order");
      for (const socket of [carolSocket, daveSocket]) {
        assert.deepEqual((await ok(socket, "history", { room_id: room.id })).messages, [sent, answer]);
      }
      assert.equal(carolSocket.io.engine.transport.name, transports[0]);
      assert.equal(daveSocket.io.engine.transport.name, transports[0]);
      closeAll(carolSocket, daveSocket);
    });
  }

  for (const { label, transports } of TRANSPORTS) {
    it(`${label} through nginx: handshake, send and receive across nodes`, async () => {
      const [a, b] = cluster.nodes;
      const [erin, frank] = await Promise.all([
        register(cluster.nginx, uniqueName("erin")),
        register(a, uniqueName("frank")),
      ]);
      const erinSocket = await connectAt(cluster.nginx, erin.token, transports);
      assert.equal(erinSocket.io.engine.transport.name, transports[0], "the handshake went through nginx");
      // frank on each node: whichever node nginx chose for erin, one of these is on the other.
      const frankOnA = await connectAt(a, frank.token, ["websocket"]);
      const frankOnB = await connectAt(b, frank.token, ["websocket"]);

      const name = `via nginx ${label}`;
      const joined = [frankOnA, frankOnB].map((s) => nextEvent(s, "room", (p) => p.room.name === name));
      const { room } = await ok(erinSocket, "room:create", { name, members: [frank.username] });
      await Promise.all(joined);

      const frankGets = [frankOnA, frankOnB].map((s) => nextEvent(s, "message", (p) => p.message.room_id === room.id));
      const sent = (await ok(erinSocket, "message:send", {
        room_id: room.id,
        client_id: newClientId(),
        body: `through nginx over ${label}`,
      })).message;
      for (const got of await Promise.all(frankGets)) assert.deepEqual(got.message, sent);

      // Several replies, so a long-polling client receives over more than one poll.
      for (const [i, from] of [frankOnA, frankOnB, frankOnA].entries()) {
        const erinGets = nextEvent(erinSocket, "message", (p) => p.message.room_id === room.id && p.message.seq === i + 2);
        const reply = (await ok(from, "message:send", {
          room_id: room.id,
          client_id: newClientId(),
          body: `reply ${i} from node ${from === frankOnA ? "a" : "b"}`,
        })).message;
        assert.deepEqual((await erinGets).message, reply);
      }
      assert.equal(erinSocket.io.engine.transport.name, transports[0], "still on the one transport");
      closeAll(erinSocket, frankOnA, frankOnB);
    });
  }
});
