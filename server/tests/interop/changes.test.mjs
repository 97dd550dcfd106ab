// Replies, edits, deletes and reactions through the official client: each is a room entry that
// arrives as a `message` event with a plain-text `body`, so a client that knows only messages
// shows a readable line ("✎ …", "reacted 👍", "deleted a message") and nothing breaks; a client
// that knows `change` applies it (docs/protocol.md, "Changes to messages").

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { closeAll, connect, newClientId, nextEvent, ok, register, request, startRelay, uniqueName } from "./relay.mjs";

describe("changes to messages through the official client", { timeout: 40_000 }, () => {
  let relay;
  let erinSocket;
  let frankSocket;

  before(async () => {
    relay = await startRelay();
  });

  after(async () => {
    closeAll(erinSocket, frankSocket);
    await relay?.stop();
  });

  it("reply, edit, reaction and delete reach the room as entries", async () => {
    const url = relay.url;
    const [erin, frank] = await Promise.all([register(url, uniqueName("erin")), register(url, uniqueName("frank"))]);
    [erinSocket, frankSocket] = await Promise.all([
      connect(url, erin.token, ["websocket"]),
      connect(url, frank.token, ["polling"]),
    ]);
    const frankSeesRoom = nextEvent(frankSocket, "room", (p) => p.room.name === "Trip");
    const { room } = await ok(erinSocket, "room:create", { name: "Trip", members: [frank.username] });
    await frankSeesRoom;
    const entry = (seq) => nextEvent(frankSocket, "message", (p) => p.message.room_id === room.id && p.message.seq === seq);

    const plan = (await ok(erinSocket, "message:send", { room_id: room.id, client_id: newClientId(), body: "Train at 9" })).message;
    assert.equal(plan.seq, 1);
    assert.equal("change" in plan, false, "a plain message is as before");

    let heard = entry(2);
    const edit = (await ok(erinSocket, "message:edit", { room_id: room.id, client_id: newClientId(), message_id: plan.id, body: "Train at 10" })).message;
    assert.deepEqual((await heard).message, edit);
    assert.equal(edit.body, "✎ Train at 10");
    assert.deepEqual(edit.change, { kind: "edit", target: plan.id, body: "Train at 10" });

    heard = entry(3);
    const reaction = (await ok(frankSocket, "reaction", { room_id: room.id, client_id: newClientId(), message_id: plan.id, emoji: "🚆", on: true })).message;
    assert.equal(reaction.body, "reacted 🚆");
    assert.deepEqual((await heard).message, reaction);

    const reply = (await ok(frankSocket, "message:send", { room_id: room.id, client_id: newClientId(), body: "ok!", reply_to: plan.id })).message;
    assert.deepEqual(reply.reply_to, { id: plan.id, seq: plan.seq, sender: erin.username, excerpt: "Train at 10" });

    // Not hers to change: frank cannot edit erin's message.
    const refused = await request(frankSocket, "message:edit", { room_id: room.id, client_id: newClientId(), message_id: plan.id, body: "x" });
    assert.equal(refused.ok, false);
    assert.equal(refused.error.code, "forbidden");

    heard = entry(5);
    const gone = (await ok(erinSocket, "message:delete", { room_id: room.id, client_id: newClientId(), message_id: plan.id })).message;
    assert.equal(gone.body, "deleted a message");
    assert.deepEqual((await heard).message, gone);

    const { messages } = await ok(frankSocket, "history", { room_id: room.id });
    assert.deepEqual(messages.map((m) => m.seq), [1, 2, 3, 4, 5]);
    assert.equal(messages[0].deleted, true);
    assert.equal(messages[0].body, "");
    assert.equal(messages[1].body, "edited a message (since deleted)");
    assert.deepEqual(messages[3].reply_to, { id: plan.id, seq: plan.seq, sender: erin.username, excerpt: "", deleted: true });
    assert.ok(messages.every((m) => !JSON.stringify(m).includes("Train")), "no text of the deleted message is left");
  });
});
