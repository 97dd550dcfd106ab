// The "done when" scenario: two official socket.io clients chat in a room end to end, with
// typing indicators and read receipts. carol uses the client's defaults (long-polling, then the
// upgrade to WebSocket); dave stays on long-polling, so every event also crosses transports.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import {
  closeAll,
  connect,
  newClientId,
  nextEvent,
  ok,
  recordEvents,
  register,
  startRelay,
  uniqueName,
  WAIT_MS,
  withTimeout,
} from "./relay.mjs";

describe("two official clients chat in a room", { timeout: 40_000 }, () => {
  let relay;
  let carolSocket;
  let daveSocket;

  before(async () => {
    relay = await startRelay();
  });

  after(async () => {
    closeAll(carolSocket, daveSocket);
    await relay?.stop();
  });

  it("room, typing, messages and receipts flow both ways", async () => {
    const url = relay.url;
    const [carol, dave] = await Promise.all([
      register(url, uniqueName("carol")),
      register(url, uniqueName("dave")),
    ]);
    let carolLog;
    let daveLog;
    [carolSocket, daveSocket] = await Promise.all([
      connect(url, carol.token, ["polling", "websocket"], { setup: (s) => (carolLog = recordEvents(s)) }),
      connect(url, dave.token, ["polling"], { setup: (s) => (daveLog = recordEvents(s)) }),
    ]);

    // carol creates the room; dave learns of it from a `room` event.
    const name = "Weekend plans";
    const daveSeesRoom = nextEvent(daveSocket, "room", (p) => p.room.name === name);
    const { room } = await ok(carolSocket, "room:create", { name, members: [dave.username] });
    const daveRoom = (await daveSeesRoom).room;
    assert.equal(daveRoom.id, room.id);
    assert.equal(daveRoom.kind, "group");
    assert.deepEqual((await ok(daveSocket, "history", { room_id: room.id })).messages, []);

    // carol types, sends, stops typing; dave sees each step.
    let daveSees = nextEvent(daveSocket, "typing", (p) => p.room_id === room.id && p.typing);
    await ok(carolSocket, "typing", { room_id: room.id, typing: true });
    assert.deepEqual(await daveSees, { room_id: room.id, user: carol.username, typing: true });

    const daveGetsMessage = nextEvent(daveSocket, "message", (p) => p.message.room_id === room.id);
    const question = (await ok(carolSocket, "message:send", {
      room_id: room.id,
      client_id: newClientId(),
      body: "Are we on for Saturday? ☀️",
    })).message;
    assert.equal(question.seq, 1);
    assert.deepEqual((await daveGetsMessage).message, question);

    daveSees = nextEvent(daveSocket, "typing", (p) => p.room_id === room.id && !p.typing);
    await ok(carolSocket, "typing", { room_id: room.id, typing: false });
    assert.deepEqual(await daveSees, { room_id: room.id, user: carol.username, typing: false });

    // dave reads it: carol gets the receipt.
    let carolSees = nextEvent(carolSocket, "receipt", (p) => p.room_id === room.id && p.user === dave.username);
    await ok(daveSocket, "read", { room_id: room.id, seq: question.seq });
    assert.deepEqual(await carolSees, { room_id: room.id, user: dave.username, seq: 1 });

    // dave types and answers; carol sees both.
    carolSees = nextEvent(carolSocket, "typing", (p) => p.room_id === room.id && p.typing);
    await ok(daveSocket, "typing", { room_id: room.id, typing: true });
    assert.deepEqual(await carolSees, { room_id: room.id, user: dave.username, typing: true });

    const carolGetsMessage = nextEvent(carolSocket, "message", (p) => p.message.room_id === room.id && p.message.seq === 2);
    const answer = (await ok(daveSocket, "message:send", {
      room_id: room.id,
      client_id: newClientId(),
      body: "Yes! 10am at the usual place.",
    })).message;
    assert.equal(answer.seq, 2);
    assert.equal(answer.sender, dave.username);
    assert.deepEqual((await carolGetsMessage).message, answer);

    // carol reads the answer: dave gets the receipt. It is also the barrier for the checks below:
    // it was sent after every typing event either of them caused.
    const daveSeesReceipt = nextEvent(daveSocket, "receipt", (p) => p.room_id === room.id && p.user === carol.username);
    await ok(carolSocket, "read", { room_id: room.id, seq: answer.seq });
    assert.deepEqual(await daveSeesReceipt, { room_id: room.id, user: carol.username, seq: 2 });

    const typingFrom = (log, user) => log.filter((e) => e.event === "typing" && e.payload.user === user);
    assert.deepEqual(typingFrom(carolLog, carol.username), [], "carol got her own typing back");
    assert.deepEqual(typingFrom(daveLog, dave.username), [], "dave got his own typing back");
    const messagesIn = (log) => log.filter((e) => e.event === "message").map((e) => e.payload.message);
    assert.deepEqual(messagesIn(daveLog), [question, answer], "dave saw each message once, in order");

    // Both ends agree on the room's state.
    for (const socket of [carolSocket, daveSocket]) {
      const mine = (await ok(socket, "rooms:list", {})).rooms.find((r) => r.id === room.id);
      assert.equal(mine.last_seq, 2);
      const history = await ok(socket, "history", { room_id: room.id });
      assert.deepEqual(history.messages, [question, answer]);
    }
    const daveView = (await ok(daveSocket, "rooms:list", {})).rooms.find((r) => r.id === room.id);
    assert.equal(daveView.read_seq, 1);
    const carolView = (await ok(carolSocket, "rooms:list", {})).rooms.find((r) => r.id === room.id);
    assert.equal(carolView.read_seq, 2);
    if (carolSocket.io.engine.transport.name !== "websocket") {
      await withTimeout(
        new Promise((resolve) => carolSocket.io.engine.once("upgrade", resolve)),
        WAIT_MS,
        "carol's client upgrading to websocket",
      );
    }
    assert.equal(carolSocket.io.engine.transport.name, "websocket", "carol's client upgraded");
    assert.equal(daveSocket.io.engine.transport.name, "polling");
  });
});
